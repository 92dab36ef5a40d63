"""Every status and kind the database stores, as ``StrEnum``s, and the CHECK constraints made
from them, so the code, the models and the database name the same values.

A ``StrEnum`` member is its string: it compares equal to the stored value and is sent to the
database as that value.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa


class AppointmentStatus(StrEnum):
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


# Bookings that hold their consultant's time (the unique index covers every status but these).
ACTIVE_STATUSES = (
    AppointmentStatus.CONFIRMED,
    AppointmentStatus.COMPLETED,
    AppointmentStatus.NO_SHOW,
)


class ReminderStatus(StrEnum):
    PENDING = "pending"
    QUEUED = "queued"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"
    WITHDRAWN = "withdrawn"


class Channel(StrEnum):
    """How a message travels: every reader gets email (the record, with the calendar file),
    and a short WhatsApp or SMS text besides when that is their chosen channel."""

    EMAIL = "email"
    WHATSAPP = "whatsapp"
    SMS = "sms"


class Delivery(StrEnum):
    """What WhatsApp or the SMS provider reported about a text after accepting it."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class MessageKind(StrEnum):
    """What a message is about; ``messages/kinds.py`` says who gets each and how it is written."""

    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    MOVED = "moved"
    CANCELLED = "cancelled"
    STAFF_NEW_BOOKING = "staff_new_booking"
    STAFF_MOVED = "staff_moved"
    STAFF_CANCELLED = "staff_cancelled"
    STAFF_ERASED = "staff_erased"
    URGENT_ESCALATION = "urgent_escalation"
    CONSULTANT_VIDEO = "consultant_video"
    CONSULTANT_VIDEO_MOVED = "consultant_video_moved"
    CONSULTANT_VIDEO_CANCELLED = "consultant_video_cancelled"
    WAITLIST_OFFER = "waitlist_offer"
    # To an address (or the email of a phone) the clinic just replaced: "call us if this was
    # not you", so a change made by someone posing as the patient does not go unseen.
    CONTACT_CHANGED = "contact_changed"
    # "Confirm you want to join the waitlist": nothing is offered or held before it is.
    WAITLIST_CONFIRM = "waitlist_confirm"
    # To the escalation addresses: the worker was not running for a while, so reminders and
    # urgent escalations may have gone late.
    STAFF_WORKER_LATE = "staff_worker_late"
    # A WhatsApp answer to "I need to change": the reader's manage link (a session message).
    CHANGE_LINK = "change_link"


class Reader(StrEnum):
    """Who reads the messages about a booking: the patient, the relative who booked, or
    both (``Appointment.messages_to``); a message and a manage link are for one of the two."""

    PATIENT = "patient"
    RELATIVE = "relative"
    BOTH = "both"


class ActorKind(StrEnum):
    """Who an audit event is by: a signed-in member of staff, the patient through their manage
    link (or the booking form), or the worker."""

    STAFF = "staff"
    PATIENT = "patient"
    SYSTEM = "system"


class StaffRole(StrEnum):
    ADMIN = "admin"
    STAFF = "staff"


class CallBackOutcome(StrEnum):
    REACHED = "reached"
    EMERGENCY = "emergency"
    NO_ANSWER = "no_answer"


class QuestionnaireStatus(StrEnum):
    """The health questionnaire: saved part-way, or sent as finished. No row means not yet."""

    STARTED = "started"
    DONE = "done"


class WaitlistStatus(StrEnum):
    PENDING = "pending"  # joined; the link in its confirmation not yet followed
    WAITING = "waiting"  # no open offer
    OFFERED = "offered"  # an offer is open (its time held for them)
    BOOKED = "booked"
    REMOVED = "removed"  # by staff, or by the person


class OfferStatus(StrEnum):
    OPEN = "open"
    TAKEN = "taken"
    EXPIRED = "expired"


def check_in(column: str, enum: type[StrEnum], name: str) -> sa.CheckConstraint:
    """``column IN ('a', 'b', ...)`` over every member of ``enum``."""
    values = ", ".join(f"'{member.value}'" for member in enum)
    return sa.CheckConstraint(f"{column} IN ({values})", name=name)
