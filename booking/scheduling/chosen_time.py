"""Who is free at one chosen time, in one query.

Booking, holding, moving and reassigning each need the consultants free at a single time, not
every free time of the horizon. Computing the horizon (``availability.free_slots``) for that
took four queries and a quarter of a booking request's time. Here one statement returns, for every
hours block on that weekday of an active consultant, whether a booking or time off overlaps
the consult, which browsers hold that consultant's time, and how many consults the consultant
has that day; the grid check (does a slot of the block start exactly then) is done in Python,
with the same arithmetic as ``free_slots``.

This restates the free-time rules (the grid, time off, holds, the notice and the horizon) for
speed. ``tests/test_chosen_time.py`` keeps the two in step: it compares this check with the
free-time list at every quarter hour over four days, on both databases.

The statement is built once: SQLAlchemy then reuses its compiled form.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa

from ..core.models import ACTIVE_STATUSES, Appointment, SlotClaim, StaffUser, TimeOff, WeeklyHours
from ..core.timeutil import UTCDateTime
from ..extensions import Session
from .availability import LONGEST_CONSULT, SlotRules, local_to_utc


@cache
def _statement() -> sa.Select:
    def moment(name: str) -> sa.BindParameter:
        return sa.bindparam(name, type_=UTCDateTime())

    start, end, now = moment("start"), moment("end"), moment("now")
    consultant = WeeklyHours.consultant_id
    booked = sa.exists().where(
        Appointment.consultant_id == consultant,
        Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.starts_at < end,
        Appointment.starts_at > moment("earliest_booking"),
        Appointment.ends_at > start,
    )
    away = sa.exists().where(
        sa.or_(TimeOff.consultant_id == consultant, TimeOff.consultant_id.is_(None)),
        TimeOff.starts_at < end,
        TimeOff.ends_at > start,
    )
    live_holds = (
        SlotClaim.consultant_id == consultant,
        SlotClaim.appointment_id.is_(None),
        SlotClaim.expires_at > now,
        SlotClaim.starts_at < end,
        # Bounded below, like the bookings: the index then reads the claims near this time,
        # not every earlier one of the consultant (each booking has a claim).
        SlotClaim.starts_at > moment("earliest_booking"),
        SlotClaim.ends_at > start,
    )
    # A held time is free only for the one browser holding it (a hold always has a holder).
    holders = sa.select(sa.func.count(sa.distinct(SlotClaim.holder_hash))).where(*live_holds)
    first_holder = sa.select(sa.func.min(SlotClaim.holder_hash)).where(*live_holds)
    that_day = sa.select(sa.func.count()).where(
        Appointment.consultant_id == consultant,
        Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.starts_at >= moment("day_start"),
        Appointment.starts_at < moment("day_end"),
    )
    return (
        sa.select(
            consultant,
            WeeklyHours.start_time,
            WeeklyHours.end_time,
            booked.label("booked"),
            away.label("away"),
            holders.scalar_subquery().label("holders"),
            first_holder.scalar_subquery().label("holder"),
            that_day.scalar_subquery().label("that_day"),
        )
        .join(StaffUser, StaffUser.id == consultant)
        .where(
            WeeklyHours.weekday == sa.bindparam("weekday"),
            StaffUser.is_consultant.is_(True),
            StaffUser.active.is_(True),
        )
    )


def consultants_free_at(
    session: Session,
    rules: SlotRules,
    now: datetime,
    moment: datetime,
    holder: str | None = None,
) -> list[int]:
    """Consultants free for a consult starting at ``moment``, least busy that day first.

    ``holder`` (a hold key's hash) is the browser asking: its own hold counts as free. The
    answer is the one ``free_slots`` gives for that time, with the same booking rules
    (minimum notice, horizon). Spreading consults evenly keeps one consultant from getting
    every early slot.
    """
    if not now + rules.min_notice <= moment < now + rules.horizon:
        return []
    end = moment + rules.consult
    local_day = moment.astimezone(rules.clinic_tz).date()
    day_start = local_to_utc(local_day, datetime.min.time(), rules.clinic_tz) or moment
    rows = session.connection().execute(
        _statement(),
        {
            "start": moment,
            "end": end,
            "now": now,
            "earliest_booking": moment - LONGEST_CONSULT,
            "day_start": day_start,
            "day_end": day_start + timedelta(days=1),
            "weekday": local_day.weekday(),
        },
    )
    load: dict[int, int] = {}
    for consultant_id, start_time, end_time, booked, away, holders, first, that_day in rows:
        if booked or away or holders > 1 or (holders == 1 and first != holder):
            continue
        block_start = local_to_utc(local_day, start_time, rules.clinic_tz)
        block_end = local_to_utc(local_day, end_time, rules.clinic_tz)
        if block_start is None or block_end is None:
            continue
        on_grid = not (moment - block_start) % rules.consult
        if block_start <= moment and end <= block_end and on_grid:
            load[consultant_id] = that_day
    return sorted(load, key=lambda consultant_id: (load[consultant_id], consultant_id))
