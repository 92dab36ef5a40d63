"""Moving a booking, shared by the patient's manage page and the staff page.

Both use the booking's own picker (a day, then a time, nothing chosen for them) and a second
step that says "You are moving to …" before anything changes: on a phone one stray tap on a
list of times must not move a consult. The patient sees the times in their own zone and may
show them in another; staff see the clinic's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import flash, redirect, render_template, request

from ..appointments.bookings import SlotTaken
from ..appointments.changes import move_and_commit
from ..core.audit import Actor
from ..core.models import Appointment
from ..core.timeutil import clinic_zone, now_utc
from ..extensions import db
from ..scheduling.availability import SlotRules, free_slots
from .booking_flow import reader_zone
from .fields import MORE_ZONES, TimeChoiceForm, chosen_timezone, slot_value, timezone_choices
from .picker import build_picker, describe, parse_day

TAKEN = "That time was just taken by someone else. Please choose another time."
NO_TIME = "Choose a time for the consult."
TIMED_OUT = "For your security the page timed out. Please choose the time again."


@dataclass(frozen=True)
class MoveDoor:
    """What differs between the patient's move page and the staff's."""

    endpoint: str  # the page's own endpoint: day links and both forms come back to it
    url_args: dict[str, str]  # its URL's arguments (the patient's token, the reference)
    template: str
    rules: SlotRules
    actor: Actor
    default_zone: str  # the reader's zone for a patient, the clinic's for staff
    done_url: str
    done_message: str
    zone_choice: bool = True  # whether the times may be shown in another zone
    whose: str = "your time"  # how a time is said: staff read "clinic time"
    context: dict = field(default_factory=dict)  # anything else the page shows


def movable_slots(appointment: Appointment, rules: SlotRules, now: datetime) -> list[datetime]:
    """Free times other than the one the booking already has."""
    return [m for m in free_slots(db.session, rules, now) if m != appointment.starts_at]


def move_page(appointment: Appointment, door: MoveDoor):
    """GET: the picker. POST without ``confirm``: the chosen time, to be confirmed. POST with
    ``confirm=yes``: the move. A time taken meanwhile comes back to the picker on that day,
    with fresh times and nothing changed."""
    now = now_utc()
    slots = movable_slots(appointment, door.rules, now)
    if request.method == "GET":
        asked = request.args.get("tz") if door.zone_choice else None
        every_zone = asked == MORE_ZONES
        if every_zone:  # "Another time zone": the whole list, the same times meanwhile
            asked = request.args.get("shown")
        return _choose(
            appointment,
            door,
            slots,
            chosen_timezone(asked, door.default_zone),
            parse_day(request.args.get("day")),
            parse_day(request.args.get("from")),
            every_zone=every_zone,
        )
    form = TimeChoiceForm(free_slots=slots)
    tz_name = chosen_timezone(form.timezone.data if door.zone_choice else None, door.default_zone)
    day = _day_of(form.slot.data, tz_name)
    if not form.validate_on_submit():
        error = TIMED_OUT if form.csrf_token.errors else next(iter(form.slot.errors), NO_TIME)
        return _choose(appointment, door, slots, tz_name, day, error=error, status=422)
    if request.form.get("confirm") != "yes":
        return _confirm(appointment, door, form.slot_start(), tz_name)
    try:
        move_and_commit(db.session, appointment, form.slot_start(), now, door.actor)
    except SlotTaken:
        fresh = movable_slots(appointment, door.rules, now_utc())
        return _choose(appointment, door, fresh, tz_name, day, error=TAKEN, status=409)
    flash(door.done_message)
    return redirect(door.done_url)


def _day_of(slot: str | None, tz_name: str):
    """The reader's day of a posted time, to show that day again; None when unreadable."""
    try:
        moment = datetime.fromisoformat(slot or "")
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(reader_zone(tz_name)).date()


def _choose(
    appointment, door, slots, tz_name, day=None, from_day=None, error=None, status=200, **more
):
    picker = build_picker(slots, reader_zone(tz_name), clinic_zone(), day, from_day, door.whose)
    return _render(
        appointment,
        door,
        tz_name,
        status,
        picker=picker,
        error=error,
        timezones=timezone_choices(tz_name, every=more.get("every_zone", False)),
    )


def _confirm(appointment, door, new_start: datetime, tz_name: str):
    return _render(
        appointment,
        door,
        tz_name,
        200,
        moving_to=describe(new_start, reader_zone(tz_name), clinic_zone(), door.whose),
        chosen=slot_value(new_start),
        chosen_day=new_start.astimezone(reader_zone(tz_name)).date().isoformat(),
    )


def _render(appointment, door, tz_name, status, **page):
    return (
        render_template(
            door.template,
            appointment=appointment,
            move=door,
            tz_name=tz_name,
            moving_from=describe(
                appointment.starts_at, reader_zone(tz_name), clinic_zone(), door.whose
            ),
            **door.context,
            **page,
        ),
        status,
    )
