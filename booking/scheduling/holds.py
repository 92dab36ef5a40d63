"""Holding a time while the patient fills in the form, and the slot claims behind it.

Choosing a time claims it for that browser for ``HOLD_MINUTES``: a row in ``slot_claim``,
the same table (and the same unique constraint on consultant and start) that every active
booking's claim lives in. So no one else is offered a held time, and booking it cannot fail
with "just taken". One browser holds at most one time; choosing another releases the first,
and booking turns the hold into the booking's claim.

An expired hold blocks nobody: the slot lists ignore it, and whoever claims that consultant's
time next deletes it in the same transaction as their own claim. The worker also clears them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from math import ceil

import sqlalchemy as sa
from flask import current_app

from ..core.models import Appointment, SlotClaim
from ..extensions import Session
from .availability import SlotRules, free_slots
from .chosen_time import consultants_free_at
from .schedule_version import bump


class HoldRefused(Exception):
    """Every consultant free at that time was just claimed by someone else."""


class DayCrowded(HoldRefused):
    """Live holds on that day already cover their share of its times (see ``crowded``)."""


def end_read_before_write(session: Session) -> None:
    """On SQLite, end the transaction that has only read before writing: a read transaction
    that another connection's commit overtook cannot become a write one (SQLITE_BUSY at once,
    whatever the busy timeout), while a fresh one waits for the lock. PostgreSQL has no such
    rule, so there the read and the write share one transaction and two round trips are saved.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.rollback()


def holder_hash(key: str) -> str:
    """What the database keeps of a browser's hold key: it names the holder, nothing more."""
    return hashlib.sha256(key.encode()).hexdigest()


def hold_period() -> timedelta:
    return timedelta(minutes=current_app.config["HOLD_MINUTES"])


def clear_expired(session: Session, consultant_id: int, starts_at: datetime, now: datetime) -> bool:
    """Delete an expired hold on this consultant's time; True if there was one. Run it before
    adding a new claim to the session: the DELETE flushes whatever is pending."""
    deleted = session.execute(
        sa.delete(SlotClaim).where(
            SlotClaim.consultant_id == consultant_id,
            SlotClaim.starts_at == starts_at,
            SlotClaim.appointment_id.is_(None),
            SlotClaim.expires_at <= now,
        )
    )
    return bool(getattr(deleted, "rowcount", 0))


def claim_for(appointment: Appointment) -> SlotClaim:
    """The booking's claim, made or moved to its consultant and time (move, reassign)."""
    claim = appointment.claim or SlotClaim(appointment=appointment)
    # The relationship when set (a consultant just assigned is not flushed yet), else the
    # column (a new booking names its consultant by id, to save loading the row).
    consultant = appointment.consultant
    claim.consultant_id = consultant.id if consultant is not None else appointment.consultant_id
    claim.starts_at = appointment.starts_at
    claim.ends_at = appointment.ends_at
    return claim


def current_hold(session: Session, key: str | None, now: datetime) -> SlotClaim | None:
    """This browser's live hold, if it has one."""
    if not key:
        return None
    return session.scalar(
        sa.select(SlotClaim).where(
            SlotClaim.holder_hash == holder_hash(key),
            SlotClaim.appointment_id.is_(None),
            SlotClaim.expires_at > now,
        )
    )


def held_claim(session: Session, holder: str | None, starts_at: datetime) -> SlotClaim | None:
    """The hold of ``holder`` (a key's hash) on ``starts_at``, even if expired: until someone
    else claims the time, the row is still there and still that browser's."""
    if not holder:
        return None
    return session.scalar(
        sa.select(SlotClaim).where(
            SlotClaim.holder_hash == holder,
            SlotClaim.appointment_id.is_(None),
            SlotClaim.starts_at == starts_at,
        )
    )


def release_holds(session: Session, holder: str | None) -> None:
    """Delete the holds of ``holder`` (a key's hash), in the caller's transaction. A bulk
    delete passes the session's hooks by, so it bumps the schedule version itself."""
    if holder:
        released = session.execute(
            sa.delete(SlotClaim)
            .where(SlotClaim.holder_hash == holder, SlotClaim.appointment_id.is_(None))
            .returning(SlotClaim.consultant_id)
        ).all()
        if released:
            bump(session, {consultant_id for (consultant_id,) in released})


def crowded(
    session: Session, rules: SlotRules, starts_at: datetime, holder: str, now: datetime
) -> bool:
    """Whether others' live holds on the clinic's day of ``starts_at`` already cover
    ``HOLD_SHARE_PER_DAY`` of that day's times (and at least ``HOLDS_PER_DAY_MIN``).

    Holding costs nothing and needs no name: without a ceiling, a few addresses with fresh
    sessions could hold every time of the next days, fifteen minutes at a time, and a family
    would find the first free day days away. With it, most of every day stays bookable
    whoever holds; booking a time without a hold is not affected."""
    config = current_app.config
    day = starts_at.astimezone(rules.clinic_tz).date()
    start = datetime.combine(day, time(), rules.clinic_tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), rules.clinic_tz).astimezone(UTC)
    held = (
        session.scalar(
            sa.select(sa.func.count(SlotClaim.id)).where(
                SlotClaim.appointment_id.is_(None),
                SlotClaim.expires_at > now,
                SlotClaim.starts_at >= start,
                SlotClaim.starts_at < end,
                SlotClaim.holder_hash != holder,
            )
        )
        or 0
    )
    free = len(free_slots(session, rules, now, start, end))
    ceiling = max(config["HOLDS_PER_DAY_MIN"], ceil(config["HOLD_SHARE_PER_DAY"] * (free + held)))
    return held >= ceiling


def hold_and_commit(
    session: Session,
    key: str,
    starts_at: datetime,
    rules: SlotRules,
    now: datetime,
    ceiling: bool = True,
) -> SlotClaim:
    """Hold ``starts_at`` for this browser (releasing its other hold) and commit, or raise
    :class:`HoldRefused` with the browser's earlier hold kept: :class:`DayCrowded` when the
    day's holds are at their ceiling (``ceiling=False`` for the front desk, who book for a
    caller on the phone)."""
    if ceiling and crowded(session, rules, starts_at, holder_hash(key), now):
        raise DayCrowded()
    candidates = consultants_free_at(session, rules, now, starts_at, holder_hash(key))
    end_read_before_write(session)
    for consultant_id in candidates:
        release_holds(session, holder_hash(key))
        clear_expired(session, consultant_id, starts_at, now)
        claim = SlotClaim(
            consultant_id=consultant_id,
            starts_at=starts_at,
            ends_at=starts_at + rules.consult,
            holder_hash=holder_hash(key),
            expires_at=now + hold_period(),
            created_at=now,
        )
        session.add(claim)
        try:
            session.commit()
        except sa.exc.IntegrityError:
            session.rollback()
            continue
        return claim
    raise HoldRefused()


def clear_all_expired(session: Session, now: datetime) -> None:
    """The worker's sweep: expired holds go, so the table stays the size of what is live."""
    session.execute(
        sa.delete(SlotClaim).where(SlotClaim.appointment_id.is_(None), SlotClaim.expires_at <= now)
    )
    session.commit()
