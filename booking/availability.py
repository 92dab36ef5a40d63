"""Free consult slots: a grid of ``CONSULT_MINUTES`` inside each consultant's weekly hours.

Hours are kept in the clinic's time zone (that is how a clinic thinks of them: "9 to 5 on
weekdays"); every slot is converted to UTC here, so daylight-saving changes in the clinic's
zone or the patient's are handled by zoneinfo, not by arithmetic on offsets.

A slot is free while at least one consultant is free at that time. Three queries, whatever the
horizon: consultants with hours, time off, and active appointments in the window.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from .models import ACTIVE_STATUSES, Appointment, StaffUser, TimeOff, WeeklyHours


@dataclass(frozen=True)
class SlotRules:
    """The clinic's booking rules, from settings."""

    clinic_tz: tzinfo
    consult: timedelta
    min_notice: timedelta
    horizon: timedelta


def _busy_intervals(session: so.Session, start: datetime, end: datetime):
    """Per consultant, the sorted intervals they cannot take a consult; plus clinic closures."""
    busy: dict[int | None, list[tuple[datetime, datetime]]] = defaultdict(list)
    appointments = session.execute(
        sa.select(Appointment.consultant_id, Appointment.starts_at, Appointment.ends_at).where(
            Appointment.status.in_(ACTIVE_STATUSES),
            Appointment.starts_at < end,
            Appointment.ends_at > start,
        )
    )
    for consultant_id, starts_at, ends_at in appointments:
        busy[consultant_id].append((starts_at, ends_at))
    time_off = session.execute(
        sa.select(TimeOff.consultant_id, TimeOff.starts_at, TimeOff.ends_at).where(
            TimeOff.starts_at < end, TimeOff.ends_at > start
        )
    )
    for consultant_id, starts_at, ends_at in time_off:
        busy[consultant_id].append((starts_at, ends_at))
    return {key: _merged(intervals) for key, intervals in busy.items()}


def _merged(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sorted, non-overlapping intervals, so one look at a neighbour answers an overlap check."""
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _overlaps(intervals: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> bool:
    """Whether [start, end) meets any of the merged intervals."""
    index = bisect_left(intervals, (end,))
    return index > 0 and intervals[index - 1][1] > start


def _local_to_utc(day: date, clock, tz: tzinfo) -> datetime | None:
    """The UTC moment of a local wall-clock time, or None if that time does not exist (DST gap)."""
    local = datetime.combine(day, clock, tzinfo=tz)
    moment = local.astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return moment


def free_slots(
    session: so.Session,
    rules: SlotRules,
    now: datetime,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> dict[datetime, list[int]]:
    """Map each free slot's UTC start to the consultants free then, in start order.

    The window defaults to the bookable range (now + minimum notice to now + horizon); a
    narrower window is how the booking code re-checks the one slot the patient chose.
    """
    earliest = now + rules.min_notice
    latest = now + rules.horizon
    start = max(window_start or earliest, earliest)
    end = min(window_end or latest, latest)
    if start >= end:
        return {}

    hours = session.execute(
        sa.select(
            WeeklyHours.consultant_id,
            WeeklyHours.weekday,
            WeeklyHours.start_time,
            WeeklyHours.end_time,
        )
        .join(StaffUser, StaffUser.id == WeeklyHours.consultant_id)
        .where(StaffUser.is_consultant.is_(True), StaffUser.active.is_(True))
    ).all()
    if not hours:
        return {}
    by_weekday = defaultdict(list)
    for consultant_id, weekday, start_time, end_time in hours:
        by_weekday[weekday].append((consultant_id, start_time, end_time))

    busy = _busy_intervals(session, start, end + rules.consult)
    closures = busy.pop(None, [])
    slots: dict[datetime, list[int]] = defaultdict(list)

    day = start.astimezone(rules.clinic_tz).date() - timedelta(days=1)
    last_day = end.astimezone(rules.clinic_tz).date()
    while day <= last_day:
        for consultant_id, start_time, end_time in by_weekday.get(day.weekday(), ()):
            block_start = _local_to_utc(day, start_time, rules.clinic_tz)
            block_end = _local_to_utc(day, end_time, rules.clinic_tz)
            if block_start is None or block_end is None:
                continue
            slot = block_start
            while slot + rules.consult <= block_end:
                slot_end = slot + rules.consult
                if (
                    start <= slot < end
                    and not _overlaps(closures, slot, slot_end)
                    and not _overlaps(busy.get(consultant_id, []), slot, slot_end)
                ):
                    slots[slot].append(consultant_id)
                slot = slot_end
        day += timedelta(days=1)
    return {moment: sorted(set(ids)) for moment, ids in sorted(slots.items())}


def consultants_free_at(
    session: so.Session, rules: SlotRules, now: datetime, moment: datetime
) -> list[int]:
    """Consultants free for a consult starting at ``moment``, least busy that day first.

    Spreading consults evenly keeps one consultant from getting every early slot.
    """
    free = free_slots(session, rules, now, moment, moment + timedelta(seconds=1)).get(moment, [])
    if len(free) < 2:
        return free
    local_day = moment.astimezone(rules.clinic_tz).date()
    day_start = _local_to_utc(local_day, datetime.min.time(), rules.clinic_tz) or moment
    counts = Counter(
        session.scalars(
            sa.select(Appointment.consultant_id).where(
                Appointment.status.in_(ACTIVE_STATUSES),
                Appointment.starts_at >= day_start,
                Appointment.starts_at < day_start + timedelta(days=1),
            )
        )
    )
    return sorted(free, key=lambda consultant_id: (counts[consultant_id], consultant_id))


def slot_rules(config) -> SlotRules:
    """The rules from the app's (already parsed) settings."""
    from zoneinfo import ZoneInfo

    return SlotRules(
        clinic_tz=ZoneInfo(config["CLINIC_TIMEZONE"]),
        consult=timedelta(minutes=config["CONSULT_MINUTES"]),
        min_notice=config["BOOKING_MIN_NOTICE"],
        horizon=config["BOOKING_HORIZON"],
    )
