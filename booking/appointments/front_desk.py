"""What the front desk sees first: the consults coming up next.

While the clinic's day is on, that is the next ten consults from now. Once today's hours are
over, or today the clinic does not work (a Saturday, a holiday closure), it is every consult
of the next working day, so that on a Saturday the desk sees Monday, not "nothing today or
tomorrow". A working day is a day on which some consultant has weekly hours that a clinic-wide
closure does not cover entirely.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..core.models import Appointment, StaffUser, TimeOff, WeeklyHours
from ..core.statuses import AppointmentStatus
from ..extensions import Session

NEXT_COUNT = 10
LOOK_AHEAD_DAYS = 14


@dataclass
class DeskView:
    title: str
    consults: list[Appointment]
    day: date | None = None  # set when the view is one whole working day


def _hours_by_weekday(session: Session) -> dict[int, list[tuple[time, time]]]:
    rows = session.execute(
        sa.select(WeeklyHours.weekday, WeeklyHours.start_time, WeeklyHours.end_time)
        .join(StaffUser, StaffUser.id == WeeklyHours.consultant_id)
        .where(StaffUser.active.is_(True), StaffUser.is_consultant.is_(True))
    )
    hours: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in rows:
        hours.setdefault(weekday, []).append((start, end))
    return hours


def _working_span(day: date, hours, closures, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The day's first start and last end of work (in the clinic's zone), or None when nobody
    works that day or a clinic-wide closure covers all of it."""
    blocks = hours.get(day.weekday())
    if not blocks:
        return None
    start = datetime.combine(day, min(b[0] for b in blocks), tz)
    end = datetime.combine(day, max(b[1] for b in blocks), tz)
    for closed_from, closed_until in closures:
        if closed_from <= start and closed_until >= end:
            return None
    return start, end


def desk_view(session: Session, now: datetime, tz: ZoneInfo) -> DeskView:
    today = now.astimezone(tz).date()
    hours = _hours_by_weekday(session)
    horizon = datetime.combine(today + timedelta(days=LOOK_AHEAD_DAYS + 1), time(0), tz)
    closures = session.execute(
        sa.select(TimeOff.starts_at, TimeOff.ends_at).where(
            TimeOff.consultant_id.is_(None), TimeOff.ends_at > now, TimeOff.starts_at < horizon
        )
    ).all()
    consult = (
        sa.select(Appointment)
        .where(Appointment.status == AppointmentStatus.CONFIRMED)
        .options(
            so.joinedload(Appointment.consultant),
            so.joinedload(Appointment.questionnaire),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    span = _working_span(today, hours, closures, tz)
    if span is not None and now < span[1]:
        upcoming = session.scalars(consult.where(Appointment.ends_at > now).limit(NEXT_COUNT)).all()
        return DeskView(f"The next {NEXT_COUNT} consults", list(upcoming))
    for offset in range(1, LOOK_AHEAD_DAYS + 1):
        day = today + timedelta(days=offset)
        if _working_span(day, hours, closures, tz) is None:
            continue
        start = datetime.combine(day, time(0), tz)
        consults = session.scalars(
            consult.where(
                Appointment.starts_at >= start, Appointment.starts_at < start + timedelta(days=1)
            )
        ).all()
        closed = "Today is over" if span is not None else "The clinic is closed today"
        return DeskView(f"{closed}. Next working day: {day:%A %d %B}", list(consults), day)
    upcoming = session.scalars(consult.where(Appointment.ends_at > now).limit(NEXT_COUNT)).all()
    return DeskView(f"The next {NEXT_COUNT} consults", list(upcoming))
