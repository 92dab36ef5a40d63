"""Dates for tests, always relative to the real today, so that no test starts failing on a date.

Tests that drive the domain with a controlled clock still meet code that reads the real clock
(the manage page, for one). Their fixed points must therefore lie ahead of the real now, and the
daylight-saving cases are found from the zone's rules rather than written down.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def monday_ahead(weeks: int = 2) -> datetime:
    """Midnight UTC of a Monday at least ``weeks`` weeks after today."""
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 * weeks + (7 - today.weekday()) % 7)


def days_after_dst_changes(zone_name: str) -> tuple[date, date]:
    """The day after the zone's next spring-forward change, and after its next fall-back one."""
    zone = ZoneInfo(zone_name)

    def noon_offset(day: date) -> timedelta:
        return datetime.combine(day, time(12), zone).utcoffset() or timedelta(0)

    day = datetime.now(UTC).date()
    forward = back = None
    while forward is None or back is None:
        day += timedelta(days=1)
        before, after = noon_offset(day - timedelta(days=1)), noon_offset(day)
        if after > before and forward is None:
            forward = day + timedelta(days=1)
        elif after < before and back is None:
            back = day + timedelta(days=1)
    return forward, back


CLINIC_ZONE = ZoneInfo("Asia/Kolkata")


def clinic_slot(days: int, hour: int = 10, minute: int = 0) -> datetime:
    """A consult start on the slot grid inside the test consultant's hours (00:00-23:30 clinic
    time): ``hour``:``minute`` in the clinic, ``days`` clinic days from today, in UTC.

    Tests used to book at ``now.replace(minute=0)`` plus whole days; when the real UTC hour is
    18 that is 23:30 in India, just past the consultant's day, and the booking was refused.
    A time taken from the consultant's hours holds at any hour of the day the suite runs."""
    today = datetime.now(UTC).astimezone(CLINIC_ZONE).date()
    local = datetime.combine(today + timedelta(days=days), time(hour, minute), CLINIC_ZONE)
    return local.astimezone(UTC)
