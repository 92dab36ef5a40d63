"""Every message is written by the worker when it sends it, from what its row recorded.

A change only inserts an outbox row: its kind, recipient and booking, and the facts of the
change (``queue_message``): the booking as it stood when the change was made (time, version,
status, consultant, video link) and what only the change knows (who made it, the time it
moved from, the cancellation's category). Rendering the templates, building the calendar file,
issuing a fresh manage link and encrypting the bodies happen here, in the worker. So each
message reports its own change, even when another has happened since: a move followed by a
cancellation reaches the consultant as "moved", then "cancelled", never two cancellations;
and what can only be known when it leaves (the current question list, how long from now) is
current. The rendered bodies are stored in the row before the first attempt, so a resend
after a crash is the same message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

from ..core.models import Appointment, OutboundEmail, StaffUser, WaitlistEntry, WaitlistOffer
from ..core.statuses import Channel, MessageKind, Reader
from ..core.tokens import issue_manage_token, issue_waitlist_link
from ..extensions import Session
from ..intake.previsit_questions import questions_for
from .notifications import (
    Email,
    cancelled_email,
    confirmation_email,
    consultant_video_email,
    contact_changed_email,
    moved_email,
    reminder_email,
    short_text,
    staff_change_email,
    staff_new_booking_email,
    urgent_escalation_email,
    waitlist_confirm_email,
    waitlist_offer_email,
    worker_late_email,
)
from .readers import ReaderOf, reader_of


class NothingToWrite(Exception):
    """The row's booking is gone or erased, or (a confirmation) its health answers were
    withdrawn with the booking: there is nothing left to tell anyone."""


# What a change can alter later, recorded with each message about a booking.
AS_IT_WAS = ("starts_at", "ends_at", "version", "status", "video_link", "consultant_id")
_MOMENTS = ("starts_at", "ends_at", "previous_start", "raised_at")


def recorded_facts(appointment: Appointment | Mapping[str, Any] | None, **facts) -> str:
    """The row's ``context``: the booking as it stands now (a model, or the values a new
    booking is inserted with) and the change's own facts, as JSON."""
    if appointment is not None:
        read = appointment.get if isinstance(appointment, Mapping) else appointment.__getattribute__
        facts = {"as_it_was": {name: read(name) for name in AS_IT_WAS}, **facts}
    return json.dumps(facts, default=lambda moment: moment.isoformat())


def read_facts(context: str | None) -> dict:
    facts = json.loads(context) if context else {}
    for holder in (facts, facts.get("as_it_was", {})):
        for name in _MOMENTS:
            if holder.get(name):
                holder[name] = datetime.fromisoformat(holder[name])
    return facts


class AsItWas:
    """The booking as it stood when the change a message reports was made: the recorded
    values first, everything else (names, the intake) from the booking as it is."""

    def __init__(self, appointment: Appointment, recorded: dict, consultant: StaffUser | None):
        self._appointment = appointment
        self.__dict__.update(recorded)
        if consultant is not None:
            self.consultant = consultant

    def __getattr__(self, name: str):
        return getattr(self._appointment, name)


Writer = Callable[[Session, OutboundEmail, Appointment, dict, datetime], Email]


def _question_list(session: Session, appointment: Appointment) -> tuple[list[str], str | None]:
    intake = appointment.intake
    if intake is None:  # the health answers were withdrawn: no list to send
        raise NothingToWrite("no intake")
    return questions_for(session, intake, appointment.starts_at.date()), intake.own_questions


def _reader(row: OutboundEmail, appointment: Appointment, facts: dict) -> ReaderOf:
    """Whom a patient-side message is for. A row queued before readers were recorded is the
    relative's copy when it goes to the relative's address."""
    role = facts.get("reader")
    if role is None:
        is_relative = row.recipient and row.recipient == appointment.booker_email
        role = Reader.RELATIVE if is_relative else Reader.PATIENT
    return reader_of(appointment, role)


def _token(session: Session, row: OutboundEmail, reader: ReaderOf, now: datetime) -> str:
    """A manage link of the reader's own: a change made with it is told as theirs."""
    return issue_manage_token(session, cast(Appointment, row.appointment), now, reader.role)


def _confirmation(session, row, appointment, facts, now) -> Email:
    questions, own = _question_list(session, appointment)
    reader = _reader(row, appointment, facts)
    token = _token(session, row, reader, now)
    return confirmation_email(appointment, questions, own, token, reader)


def _reminder(session, row, appointment, facts, now) -> Email:
    questions, own = _question_list(session, appointment)
    reader = _reader(row, appointment, facts)
    token = _token(session, row, reader, now)
    return reminder_email(appointment, questions, own, token, now, reader)


def _moved(session, row, appointment, facts, now) -> Email:
    questions, own = _question_list(session, appointment)
    reader = _reader(row, appointment, facts)
    token = _token(session, row, reader, now)
    return moved_email(appointment, questions, own, token, reader, facts.get("by_reader"))


def _cancelled(session, row, appointment, facts, now) -> Email:
    reader = _reader(row, appointment, facts)
    # The link to book again with the answers filled in, unless the patient withdrew them.
    token = _token(session, row, reader, now) if facts.get("rebook") else None
    return cancelled_email(
        appointment,
        facts["by_patient"],
        facts.get("category"),
        token,
        reader,
        facts.get("by_reader"),
    )


def _staff_change(session, row, appointment, facts, now) -> Email:
    change = MessageKind(row.kind).removeprefix("staff_")
    return staff_change_email(
        appointment, row.recipient, change, facts.get("previous_start"), facts.get("by")
    )


def _staff_new_booking(session, row, appointment, facts, now) -> Email:
    return staff_new_booking_email(appointment, row.recipient)


def _consultant_video(session, row, appointment, facts, now) -> Email:
    # The kind says which change it reports, whatever has happened to the consult since.
    return consultant_video_email(appointment, row.recipient, MessageKind(row.kind))


def _contact_changed(session, row, appointment, facts, now) -> Email:
    # To the replaced address: the reader is told by role (their address is no longer it).
    reader = reader_of(appointment, Reader(facts.get("reader", Reader.PATIENT)))
    return contact_changed_email(appointment, row.recipient, facts["changed"], reader)


def _urgent_escalation(session, row, appointment, facts, now) -> Email:
    return urgent_escalation_email(appointment, row.recipient, now - facts["raised_at"])


WRITERS: dict[MessageKind, Writer] = {
    MessageKind.CONFIRMATION: _confirmation,
    MessageKind.REMINDER: _reminder,
    MessageKind.MOVED: _moved,
    MessageKind.CANCELLED: _cancelled,
    MessageKind.STAFF_NEW_BOOKING: _staff_new_booking,
    MessageKind.STAFF_MOVED: _staff_change,
    MessageKind.STAFF_CANCELLED: _staff_change,
    MessageKind.STAFF_ERASED: _staff_change,
    MessageKind.URGENT_ESCALATION: _urgent_escalation,
    MessageKind.CONSULTANT_VIDEO: _consultant_video,
    MessageKind.CONSULTANT_VIDEO_MOVED: _consultant_video,
    MessageKind.CONSULTANT_VIDEO_CANCELLED: _consultant_video,
    MessageKind.CONTACT_CHANGED: _contact_changed,
}


def _waitlist_offer(session: Session, facts: dict, now: datetime) -> Email:
    """An offer is about a waitlist entry, not a booking; the entry or offer may be gone. It
    carries a link of its own to see the entry or leave the list."""
    entry = session.get(WaitlistEntry, facts["entry_id"])
    offer = session.get(WaitlistOffer, facts["offer_id"])
    if entry is None or offer is None:
        raise NothingToWrite(MessageKind.WAITLIST_OFFER)
    return waitlist_offer_email(
        entry, offer, facts["token"], issue_waitlist_link(session, entry, now)
    )


def _waitlist_confirm(session: Session, facts: dict) -> Email:
    entry = session.get(WaitlistEntry, facts["entry_id"])
    if entry is None:  # left, or forgotten, before the worker wrote it
        raise NothingToWrite(MessageKind.WAITLIST_CONFIRM)
    return waitlist_confirm_email(entry, facts["token"])


def write_text(
    session: Session, row: OutboundEmail, appointment: Appointment, facts: dict, now: datetime
) -> Email:
    """A short text on WhatsApp or SMS, with a manage link of the reader's own."""
    reader = _reader(row, appointment, facts)
    token = _token(session, row, reader, now)
    return short_text(
        MessageKind(row.kind), Channel(row.channel), appointment, reader, token, facts
    )


def write(session: Session, row: OutboundEmail, facts: dict, now: datetime) -> Email:
    """Write a row from its recorded facts, and store what was written in it (the caller
    commits). An erased booking gets only the staff's notice of the erasure."""
    kind = MessageKind(row.kind)
    if kind == MessageKind.WAITLIST_OFFER:
        email = _waitlist_offer(session, facts, now)
    elif kind == MessageKind.WAITLIST_CONFIRM:
        email = _waitlist_confirm(session, facts)
    elif kind == MessageKind.STAFF_WORKER_LATE:
        email = worker_late_email(
            row.recipient,
            datetime.fromisoformat(facts["stopped"]),
            datetime.fromisoformat(facts["back"]),
        )
    else:
        appointment = row.appointment
        if appointment is None or (
            appointment.erased_at is not None and kind != MessageKind.STAFF_ERASED
        ):
            raise NothingToWrite(kind)
        recorded = facts.get("as_it_was", {})
        consultant_id = recorded.get("consultant_id")
        consultant = session.get(StaffUser, consultant_id) if consultant_id else None
        as_it_was = cast(Appointment, AsItWas(appointment, recorded, consultant))
        if row.channel != Channel.EMAIL:
            email = write_text(session, row, as_it_was, facts, now)
        else:
            email = WRITERS[kind](session, row, as_it_was, facts, now)
    email.recipient = row.recipient
    row.subject, row.body_text, row.body_html, row.ics = (
        email.subject,
        email.text,
        email.html,
        email.ics,
    )
    return email
