"""Moving a booking from a form, shared by the patient's manage page and the staff page."""

from __future__ import annotations

from datetime import datetime

from ..appointments.bookings import SlotTaken
from ..appointments.changes import move_and_commit
from ..core.audit import Actor
from ..core.models import Appointment
from ..core.timeutil import now_utc
from ..extensions import db
from ..scheduling.availability import SlotRules, free_slots
from .fields import TimeChoiceForm

TAKEN = "That time was just taken by someone else. Please choose another time."


def movable_slots(appointment: Appointment, rules: SlotRules, now: datetime) -> list[datetime]:
    """Free times other than the one the booking already has."""
    return [m for m in free_slots(db.session, rules, now) if m != appointment.starts_at]


def attempt_move(
    form: TimeChoiceForm, appointment: Appointment, rules: SlotRules, now: datetime, actor: Actor
) -> tuple[bool, list[datetime] | None, int]:
    """Validate the chosen time and move the booking.

    Returns (moved, fresh times to offer or None to keep the current ones, HTTP status). A
    time taken meanwhile is reported on the slot field, with fresh times and nothing changed.
    """
    if not form.validate_on_submit():
        return False, None, 422
    try:
        move_and_commit(db.session, appointment, form.slot_start(), now, actor)
    except SlotTaken:
        form.slot.errors = [TAKEN]
        return False, movable_slots(appointment, rules, now_utc()), 409
    return True, None, 200
