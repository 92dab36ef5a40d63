"""The logs in words staff use: who did it (a colleague's name, "patient (email link)",
"system"), what was done in a phrase, statuses and email kinds as people say them, and a run
of "opened the booking" by the same person within ten minutes shown once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .models import AuditEvent
from .statuses import ActorKind

ACTIONS = {
    "booked": "booked online",
    "booked_by_staff": "booked by phone, for the patient",
    "booking_refused": "was refused another booking online: this email is at its limit",
    "viewed": "opened the booking",
    "exported": "downloaded the list as CSV",
    "cancelled": "cancelled the consult",
    "moved": "moved the consult to another time",
    "reassigned": "gave the consult to another consultant",
    "note_added": "added a note",
    "contact_corrected": "corrected the contact details",
    "contact_confirmed": "confirmed the changed contact details with the patient by phone",
    "confirmation_resent": "sent the confirmation again",
    "video_link_changed": "changed the video link",
    "mode_changed": "changed how the consult happens",
    "called_back": "recorded a call-back",
    "attendance_confirmed": 'answered "I will attend" on WhatsApp',
    "change_asked": 'answered "I need to change" on WhatsApp',
    "whatsapp_stopped": "sent STOP: no more WhatsApp messages",
    "texts_stopped": "stopped text messages on the booking's page",
    "clinical_text_approved": "approved clinical text",
    "questionnaire_saved": "saved the health questionnaire (not sent yet)",
    "questionnaire_sent": "sent the health questionnaire",
    "questionnaire_followed_up": "recorded the questionnaire follow-up call",
    "marked_completed": "marked the consult completed",
    "marked_no_show": "marked the consult a no-show",
    "marked_confirmed": "cleared the consult's outcome",
    "email_retried": "sent a failed email again",
    "waitlist_removed": "took someone off the waitlist",
    "hours_changed": "changed weekly hours",
    "time_off_added": "added time off",
    "time_off_removed": "removed time off",
    "question_added": "added a pre-visit question",
    "question_changed": "changed a pre-visit question",
    "question_moved": "reordered the pre-visit questions",
    "account_created": "created a staff account",
    "account_changed": "changed a staff account",
    "password_changed": "changed their password",
    "password_reset": "reset a password",
    "signed_in": "signed in",
    "account_locked": "locked an account to the addresses that failed on it",
    "signed_out": "signed out",
    "data_viewed": "looked at everything stored about the booking",
    "data_exported": "downloaded everything stored about the booking",
    "data_erased": "deleted the booking's personal data",
    "health_consent_withdrawn": "withdrew agreement to storing health information",
    "reminder_consent_withdrawn": "stopped the reminder emails",
    "two_factor_set_up": "set up two-factor sign-in",
    "two_factor_reset": "reset someone's two-factor sign-in",
    "recovery_code_used": "signed in with a recovery code",
    "list_viewed": "looked at the appointment list",
}

EMAIL_STATUSES = {
    "pending": "waiting to be sent",
    "sending": "being sent",
    "sent": "sent",
    "dead": "failed: gave up",
    "withdrawn": "not sent (no longer needed)",
}

VIEW_GROUPING = timedelta(minutes=10)
# Looks that are repeated in a working session: shown once with a count.
GROUPED = {"viewed", "list_viewed"}


def action_words(action: str) -> str:
    return ACTIONS.get(action, action.replace("_", " "))


def email_status_words(status: str) -> str:
    return EMAIL_STATUSES.get(status, status)


CHANNELS = {"email": "Email", "whatsapp": "WhatsApp", "sms": "SMS"}


def channel_words(channel: str) -> str:
    return CHANNELS.get(channel, channel)


def who(event) -> str:
    if event.staff_user is not None:
        return event.staff_user.name
    return {
        ActorKind.PATIENT: "patient (email link or booking form)",
        ActorKind.SYSTEM: "system",
    }.get(event.actor, str(event.actor))


@dataclass
class LogLine:
    at: datetime  # the newest event of the line
    who: str
    what: str
    event: AuditEvent
    times: int = 1
    earliest: datetime | None = None  # the oldest event the line counts


def readable(events) -> list[LogLine]:
    """Events (newest first) as lines; a person opening the same booking (or the list with
    health filters) again within ten minutes of the last time is counted on one line instead
    of repeated."""
    lines: list[LogLine] = []
    for event in events:
        previous = lines[-1] if lines else None
        if (
            previous is not None
            and event.action in GROUPED
            and previous.event.action == event.action
            and previous.event.staff_user_id == event.staff_user_id
            and previous.event.appointment_id == event.appointment_id
            and (previous.earliest or previous.at) - event.at <= VIEW_GROUPING
        ):
            previous.times += 1
            previous.earliest = event.at
            continue
        lines.append(LogLine(event.at, who(event), action_words(event.action), event))
    return lines
