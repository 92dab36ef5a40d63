"""Every kind of message, with who receives it and the template it is written from.

A kind is stored on its outbox row (``MessageKind``); this table is the one place that says
whom a kind is for, how staff call it, and which template folder writes it on each channel.
A new channel adds a template to the kinds it carries, not a code path: the patient-side
kinds also travel as short texts on WhatsApp and SMS (their words in ``channels.TEXTS``).

Every kind is queued unwritten by the change that causes it (``outbox.queue_message``) and
written by the worker when sent (``writing.py``), from the facts its row recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.statuses import MessageKind
from .channels import TEXTS


@dataclass(frozen=True)
class KindSpec:
    audience: str  # who receives it, in staff's words
    words: str  # the kind as the staff message log shows it
    templates: dict[str, str]  # channel -> template folder under templates/email/


def _email(audience: str, words: str, template: str) -> KindSpec:
    return KindSpec(audience, words, {"email": template})


READERS = "the patient, the relative who booked, or both (messages/readers.py)"


def _to_readers(words: str, template: str) -> KindSpec:
    """A patient-side kind: an email to each reader, and a short text on their channel."""
    text = TEXTS[MessageKind(template)].template
    return KindSpec(READERS, words, {"email": template, "whatsapp": text, "sms": text})


KINDS: dict[MessageKind, KindSpec] = {
    MessageKind.CONFIRMATION: _to_readers("Confirmation", "confirmation"),
    MessageKind.REMINDER: _to_readers("Reminder", "reminder"),
    MessageKind.MOVED: _to_readers("New time", "moved"),
    MessageKind.CANCELLED: _to_readers("Cancellation", "cancelled"),
    MessageKind.CHANGE_LINK: KindSpec(
        'the reader who answered a reminder with "I need to change"',
        "Link to change (answer on WhatsApp)",
        {"whatsapp": "change_link"},
    ),
    MessageKind.STAFF_NEW_BOOKING: _email(
        "the staff notification addresses", "New booking (to staff)", "staff_new_booking"
    ),
    MessageKind.STAFF_MOVED: _email(
        "the staff notification addresses", "Moved (to staff)", "staff_change"
    ),
    MessageKind.STAFF_CANCELLED: _email(
        "the staff notification addresses", "Cancelled (to staff)", "staff_change"
    ),
    MessageKind.STAFF_ERASED: _email(
        "the staff notification addresses", "Data deleted (to staff)", "staff_change"
    ),
    MessageKind.URGENT_ESCALATION: _email(
        "the escalation addresses",
        "Urgent call-back not made (to staff)",
        "staff_urgent_escalation",
    ),
    MessageKind.STAFF_WORKER_LATE: _email(
        "the escalation addresses", "Worker was not running (to staff)", "staff_worker_late"
    ),
    MessageKind.CONSULTANT_VIDEO: _email(
        "the consultant", "Video link (to the consultant)", "staff_consultant_video"
    ),
    MessageKind.CONSULTANT_VIDEO_MOVED: _email(
        "the consultant", "Video consult moved (to the consultant)", "staff_consultant_video"
    ),
    MessageKind.CONSULTANT_VIDEO_CANCELLED: _email(
        "the consultant", "Video consult cancelled (to the consultant)", "staff_consultant_video"
    ),
    MessageKind.WAITLIST_OFFER: _email(
        "the person on the waitlist", "Waitlist offer", "waitlist_offer"
    ),
    MessageKind.WAITLIST_CONFIRM: _email(
        "the person who joined the waitlist", "Waitlist: confirm", "waitlist_confirm"
    ),
    MessageKind.CONTACT_CHANGED: _email(
        "the address the clinic replaced", "Contact details changed", "contact_changed"
    ),
}

# What a consultant's video notice reports, by its kind.
CONSULTANT_VIDEO_CHANGE = {
    MessageKind.CONSULTANT_VIDEO: "booked",
    MessageKind.CONSULTANT_VIDEO_MOVED: "moved",
    MessageKind.CONSULTANT_VIDEO_CANCELLED: "cancelled",
}


def template_of(kind: MessageKind, channel: str = "email") -> str:
    return KINDS[kind].templates[channel]


def email_kind_words(kind: str) -> str:
    """A stored kind as the staff message log and the data download say it."""
    if kind in KINDS:
        return KINDS[MessageKind(kind)].words
    return kind.replace("_", " ").capitalize()
