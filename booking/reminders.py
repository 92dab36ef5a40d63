"""Reminder rows: one per offset in ``REMINDER_OFFSETS``, written in the booking's transaction.

A reminder whose due time has already passed when the booking is made is stored as
``skipped``: the confirmation email already carries the question list. A patient who did not
agree to reminder emails gets ``skipped`` rows too, so the record says why none was sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .models import Appointment, Reminder


def plan_reminders(
    appointment: Appointment, now: datetime, offsets: list[timedelta]
) -> list[Reminder]:
    reminders = []
    for offset in offsets:
        due_at = appointment.starts_at - offset
        wanted = appointment.consent_reminders and due_at > now
        reminders.append(
            Reminder(
                offset_minutes=int(offset.total_seconds() // 60),
                due_at=due_at,
                status="pending" if wanted else "skipped",
            )
        )
    return reminders
