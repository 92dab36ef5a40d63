"""The waitlist: when no time suits, a person leaves their contact details and when suits them;
when a matching time is free (a cancellation, new hours), the worker offers it to the person
who has waited longest, by email, with a link that holds it for them for ``HOLD_MINUTES``.

One open offer per person, and each time offered to one person at a time (the offer's hold is
a slot claim like any other). A time is never offered twice to the same person (a unique
constraint). An offer not taken in time expires: the person waits again for the next match,
and the time, free again, goes to the next person it suits. Offers are only sent at waking
hours in the person's zone.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..core import audit
from ..core.audit import Actor
from ..core.models import Appointment, SlotClaim, WaitlistEntry, WaitlistLink, WaitlistOffer
from ..core.statuses import MessageKind, OfferStatus, WaitlistStatus
from ..core.timeutil import zone
from ..core.tokens import TOKEN_SHAPE, hash_token, issue_waitlist_link
from ..extensions import Session
from ..intake.choices import DAY_PART_HOURS
from ..messages.outbox import queue_message
from ..scheduling.availability import free_slots, slot_rules
from ..scheduling.chosen_time import consultants_free_at
from ..scheduling.holds import clear_expired, hold_period, holder_hash, release_holds

log = logging.getLogger(__name__)

OFFER_KEY = "waitlist_offer"  # the session key of the offer a browser opened

# Offers go out between 08:00 and 21:00 in the person's own zone: an offer held for minutes
# and sent at 03:15 would expire while they sleep, and wake a worried family for nothing.
OFFER_HOURS = (8, 21)


def awake(entry: WaitlistEntry, now: datetime) -> bool:
    """Whether it is a sensible hour to send this person an offer."""
    local = now.astimezone(zone(entry.timezone, current_app.config["CLINIC_TIMEZONE"]))
    return OFFER_HOURS[0] <= local.hour < OFFER_HOURS[1]


def suits(entry: WaitlistEntry, moment: datetime) -> bool:
    """Whether a time falls on one of the person's days and parts of the day, in their zone."""
    local = moment.astimezone(zone(entry.timezone, current_app.config["CLINIC_TIMEZONE"]))
    if local.weekday() not in entry.weekday_list:
        return False
    hour = local.hour + local.minute / 60
    return any(
        DAY_PART_HOURS[part][0] <= hour < DAY_PART_HOURS[part][1]
        for part in entry.day_part_list
        if part in DAY_PART_HOURS
    )


def could_ever_suit(session: Session, entry: WaitlistEntry, now: datetime) -> bool:
    """Whether any of the clinic's consult times in the coming weeks, free or booked, falls on
    the person's days and times of day: a Saturday evening at a clinic open Monday to Friday
    would keep someone waiting for an offer that can never come."""
    rules = slot_rules(current_app.config)
    if any(suits(entry, moment) for moment in free_slots(session, rules, now)):
        return True
    booked = session.scalars(
        sa.select(Appointment.starts_at).where(
            Appointment.starts_at > now, Appointment.starts_at < now + rules.horizon
        )
    )
    return any(suits(entry, moment) for moment in booked)


def expire_offers(session: Session, now: datetime) -> None:
    """Offers past their hold end; their people wait again. The caller commits."""
    expired = session.scalars(
        sa.select(WaitlistOffer).where(
            WaitlistOffer.status == OfferStatus.OPEN, WaitlistOffer.expires_at <= now
        )
    ).all()
    for offer in expired:
        offer.status = OfferStatus.EXPIRED
        if offer.entry.status == WaitlistStatus.OFFERED:
            offer.entry.status = WaitlistStatus.WAITING


def make_offers(session: Session, now: datetime) -> int:
    """Offer free times to the people waiting, longest-waiting first. Commits each offer on
    its own, so a lost race (another worker, a patient booking the time) costs one offer."""
    expire_offers(session, now)
    session.commit()
    waiting = session.scalars(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.status == WaitlistStatus.WAITING)
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    if not waiting:
        return 0
    rules = slot_rules(current_app.config)
    free = list(free_slots(session, rules, now))
    made = 0
    for entry in waiting:
        if not awake(entry, now):
            continue  # offered in the morning, if the time is still free
        offered_before = {offer.starts_at for offer in entry.offers}
        for moment in free:
            if moment in offered_before or not suits(entry, moment):
                continue
            if _offer(session, entry.id, moment, rules, now):
                free.remove(moment)
                made += 1
                break
    return made


def _offer(session: Session, entry_id: int, moment: datetime, rules, now: datetime) -> bool:
    """Hold ``moment`` for the person and email them the link, in one transaction."""
    consultants = consultants_free_at(session, rules, now, moment)
    session.rollback()
    if not consultants:
        return False
    token = secrets.token_urlsafe(32)
    # Only a person still waiting gets an offer: a second worker finds them offered already.
    updated = session.execute(
        sa.update(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == WaitlistStatus.WAITING)
        .values(status=WaitlistStatus.OFFERED)
    )
    if getattr(updated, "rowcount", 0) != 1:
        session.rollback()
        return False
    clear_expired(session, consultants[0], moment, now)
    expires_at = now + hold_period()
    session.add(
        SlotClaim(
            consultant_id=consultants[0],
            starts_at=moment,
            ends_at=moment + rules.consult,
            holder_hash=holder_hash(token),
            expires_at=expires_at,
            created_at=now,
        )
    )
    entry = session.get_one(WaitlistEntry, entry_id)
    offer = WaitlistOffer(
        entry=entry,
        starts_at=moment,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=expires_at,
        status=OfferStatus.OPEN,
    )
    session.add(offer)
    try:
        session.flush()  # the offer's id, for the message written from it
        message = queue_message(
            session,
            MessageKind.WAITLIST_OFFER,
            entry.email,
            now,
            entry_id=entry.id,
            offer_id=offer.id,
            token=token,
        )
        message.waitlist_entry_id = entry.id
        session.commit()
    except sa.exc.IntegrityError:
        session.rollback()
        return False
    log.info("waitlist entry %s offered a time", entry_id)
    return True


def find_offer(session: Session, token: str, now: datetime) -> WaitlistOffer | None:
    """The open offer behind a link, while its hold lasts."""
    if not TOKEN_SHAPE.match(token or ""):
        return None
    return session.scalar(
        sa.select(WaitlistOffer).where(
            WaitlistOffer.token_hash == hash_token(token),
            WaitlistOffer.status == OfferStatus.OPEN,
            WaitlistOffer.expires_at > now,
        )
    )


def take_offer(session: Session, offer_id: int, appointment: Appointment) -> None:
    """The person booked through their offer: they leave the list. The caller commits."""
    offer = session.get(WaitlistOffer, offer_id)
    if offer is None or offer.status != OfferStatus.OPEN:
        return
    offer.status = OfferStatus.TAKEN
    offer.appointment_id = appointment.id
    offer.entry.status = WaitlistStatus.BOOKED
    offer.entry.ended_at = appointment.created_at


def remove(session: Session, entry: WaitlistEntry, now: datetime, actor: Actor) -> None:
    """Take someone off the list (they asked, by the link or on the phone, or booked another
    way): their name, contact details, offers and the messages sent to them are deleted now,
    not kept for the retention period. The caller commits."""
    audit.record(session, "waitlist_removed", now, actor, detail=f"waitlist {entry.id}")
    for offer in entry.offers:
        if offer.status == OfferStatus.OPEN:  # the time it holds is free again now
            release_holds(session, offer.token_hash)  # the hold is named by the same hash
    session.delete(entry)


# Who has not followed the link in their confirmation within this long is forgotten.
PENDING_FOR = timedelta(days=2)
OPEN = (WaitlistStatus.PENDING, WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


def join(session: Session, entry: WaitlistEntry, now: datetime) -> bool:
    """Add ``entry`` as pending and send the one message that asks to confirm it; False (and
    nothing added or sent) when the email or phone already has an open entry. The caller
    commits.

    Anyone can type anyone's address: before, five entries for a stranger's address sent
    ten offers in sixteen minutes, each holding a real time. Now nothing is offered or held
    for an entry until the link in its confirmation is followed, and an address or number
    is on the list once."""
    already = session.scalar(
        sa.select(WaitlistEntry.id)
        .where(
            WaitlistEntry.status.in_(OPEN),
            sa.or_(WaitlistEntry.email == entry.email, WaitlistEntry.phone == entry.phone),
        )
        .limit(1)
    )
    if already is not None:
        return False
    entry.status = WaitlistStatus.PENDING
    entry.created_at = now
    session.add(entry)
    session.flush()
    message = queue_message(
        session,
        MessageKind.WAITLIST_CONFIRM,
        entry.email,
        now,
        entry_id=entry.id,
        token=issue_waitlist_link(session, entry, now),
    )
    message.waitlist_entry_id = entry.id
    return True


def find_entry(session: Session, token: str) -> WaitlistEntry | None:
    """The open entry behind a link from one of its messages."""
    if not TOKEN_SHAPE.match(token or ""):
        return None
    return session.scalar(
        sa.select(WaitlistEntry)
        .join(WaitlistLink, WaitlistLink.entry_id == WaitlistEntry.id)
        .where(WaitlistLink.token_hash == hash_token(token), WaitlistEntry.status.in_(OPEN))
    )


def confirm(session: Session, entry: WaitlistEntry, now: datetime) -> None:
    """The link was followed and "keep me on the list" pressed: offers may go out now. The
    caller commits."""
    if entry.status == WaitlistStatus.PENDING:
        entry.status = WaitlistStatus.WAITING
        entry.created_at = now  # the wait counts from the confirmation
        log.info("waitlist entry %s confirmed", entry.id)


def forget_pending(session: Session, now: datetime) -> int:
    """The worker's sweep: entries never confirmed are deleted with their messages."""
    old = session.scalars(
        sa.select(WaitlistEntry).where(
            WaitlistEntry.status == WaitlistStatus.PENDING,
            WaitlistEntry.created_at < now - PENDING_FOR,
        )
    ).all()
    for entry in old:
        session.delete(entry)
    session.commit()
    return len(old)
