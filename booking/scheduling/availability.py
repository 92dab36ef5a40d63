"""Free consult slots: a grid of ``CONSULT_MINUTES`` inside each consultant's weekly hours.

Hours are kept in the clinic's time zone (that is how a clinic thinks of them: "9 to 5 on
weekdays"); every slot is converted to UTC here, so daylight-saving changes in the clinic's
zone or the patient's are handled by zoneinfo, not by arithmetic on offsets.

A slot is free while at least one consultant is free at that time. Three queries, whatever the
horizon: consultants with hours, time off, and active appointments in the window together with
the times held for browsers filling in the form (see ``holds.py``; a browser's own hold does
not hide that time from it).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from ..core.models import ACTIVE_STATUSES, Appointment, SlotClaim, StaffUser, TimeOff, WeeklyHours
from ..core.statuses import AppointmentStatus
from ..core.timeutil import UTCDateTime, clinic_zone
from ..extensions import Session
from .schedule_version import schedule_version


@dataclass(frozen=True)
class SlotRules:
    """The clinic's booking rules, from settings."""

    clinic_tz: tzinfo
    consult: timedelta
    min_notice: timedelta
    horizon: timedelta


# No consult lasts this long: the lower bound that keeps the appointment query on the index's
# window instead of every past booking.
LONGEST_CONSULT = timedelta(days=1)


@dataclass(frozen=True)
class Hold:
    starts_at: datetime
    ends_at: datetime
    holder: str | None
    expires_at: datetime


def _busy_intervals(session: Session, start: datetime, end: datetime, now: datetime):
    """Per consultant, the sorted intervals they cannot take a consult, plus clinic closures;
    and, apart, the live holds, which block everyone but the browser holding them."""
    busy: dict[int | None, list[tuple[datetime, datetime]]] = defaultdict(list)
    holds: dict[int, list[Hold]] = defaultdict(list)
    booked = sa.select(
        Appointment.consultant_id,
        Appointment.starts_at,
        Appointment.ends_at,
        # Typed, so the union's columns read back as the holds' do.
        sa.cast(sa.null(), sa.String(64)).label("holder"),
        sa.cast(sa.null(), UTCDateTime()).label("expires_at"),
    ).where(
        Appointment.status.in_(ACTIVE_STATUSES),
        Appointment.starts_at < end,
        Appointment.starts_at > start - LONGEST_CONSULT,
        Appointment.ends_at > start,
    )
    held = sa.select(
        SlotClaim.consultant_id,
        SlotClaim.starts_at,
        SlotClaim.ends_at,
        SlotClaim.holder_hash,
        SlotClaim.expires_at,
    ).where(
        SlotClaim.expires_at > now,
        SlotClaim.appointment_id.is_(None),
        SlotClaim.starts_at < end,
        SlotClaim.ends_at > start,
    )
    # One round trip for both: bookings and the times held for browsers.
    rows = session.execute(sa.union_all(booked, held)).all()
    for consultant_id, starts_at, ends_at, holder, expires_at in rows:
        if expires_at is None:
            busy[consultant_id].append((starts_at, ends_at))
        else:
            holds[consultant_id].append(Hold(starts_at, ends_at, holder, expires_at))
    time_off = session.execute(
        sa.select(TimeOff.consultant_id, TimeOff.starts_at, TimeOff.ends_at).where(
            TimeOff.starts_at < end, TimeOff.ends_at > start
        )
    )
    for off_id, off_start, off_end in time_off:  # off_id empty: the whole clinic is closed
        busy[off_id].append((off_start, off_end))
    return {key: _merged(intervals) for key, intervals in busy.items()}, holds


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


def local_to_utc(day: date, clock, tz: tzinfo) -> datetime | None:
    """The UTC moment of a local wall-clock time, or None if that time does not exist (DST gap)."""
    local = datetime.combine(day, clock, tzinfo=tz)
    moment = local.astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return moment


@dataclass
class Computed:
    """Free times for everyone (``base``), the times free only for the browser holding them
    (``held``: slot to (consultant, holder) pairs), and until when this stays true without
    any write: the first live hold's expiry."""

    base: dict[datetime, list[int]]
    held: dict[datetime, list[tuple[int, str | None]]]
    valid_until: datetime | None


def _compute(session: Session, rules: SlotRules, now: datetime, start, end) -> Computed:
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
        return Computed({}, {}, None)
    by_weekday = defaultdict(list)
    for consultant_id, weekday, start_time, end_time in hours:
        by_weekday[weekday].append((consultant_id, start_time, end_time))

    busy, holds = _busy_intervals(session, start, end + rules.consult, now)
    closures = busy.pop(None, [])
    slots: dict[datetime, list[int]] = defaultdict(list)
    held: dict[datetime, list[tuple[int, str | None]]] = defaultdict(list)

    day = start.astimezone(rules.clinic_tz).date() - timedelta(days=1)
    last_day = end.astimezone(rules.clinic_tz).date()
    while day <= last_day:
        for consultant_id, start_time, end_time in by_weekday.get(day.weekday(), ()):
            block_start = local_to_utc(day, start_time, rules.clinic_tz)
            block_end = local_to_utc(day, end_time, rules.clinic_tz)
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
                    holders = {
                        hold.holder
                        for hold in holds.get(consultant_id, ())
                        if hold.starts_at < slot_end and hold.ends_at > slot
                    }
                    if not holders:
                        slots[slot].append(consultant_id)
                    elif len(holders) == 1:
                        held[slot].append((consultant_id, holders.pop()))
                slot = slot_end
        day += timedelta(days=1)
    expiries = [hold.expires_at for items in holds.values() for hold in items]
    return Computed(
        {moment: sorted(set(ids)) for moment, ids in sorted(slots.items())},
        dict(held),
        min(expiries, default=None),
    )


def free_slots(
    session: Session,
    rules: SlotRules,
    now: datetime,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    holder: str | None = None,
) -> dict[datetime, list[int]]:
    """Map each free slot's UTC start to the consultants free then, in start order.

    The window defaults to the bookable range (now + minimum notice to now + horizon), which
    is cached (see :func:`_cached`); a narrower window is how the booking code re-checks the
    one slot the patient chose, always from the database. ``holder`` (a hold key's hash) is
    the browser asking: its own hold counts as free.
    """
    earliest = now + rules.min_notice
    latest = now + rules.horizon
    start = max(window_start or earliest, earliest)
    end = min(window_end or latest, latest)
    if start >= end:
        return {}
    if window_start is None and window_end is None:
        computed = _cached(session, rules, now, start, end)
    else:
        computed = _compute(session, rules, now, start, end)
    if not holder or not computed.held:
        return computed.base
    mine = {
        moment: [consultant for consultant, held_for in pairs if held_for == holder]
        for moment, pairs in computed.held.items()
    }
    slots = {moment: list(ids) for moment, ids in computed.base.items()}
    for moment, consultants in mine.items():
        if consultants:
            slots[moment] = sorted({*slots.get(moment, []), *consultants})
    return dict(sorted(slots.items()))


def _cached(session: Session, rules: SlotRules, now: datetime, start, end) -> Computed:
    """The bookable range's free times, kept per process and recomputed only when the
    schedule changed (its version: one indexed query), the minute moved the window, or a
    hold in it expired. The version is read before computing, so what is cached is never
    older than the version it is filed under; two web processes each keep their own and
    both see every change on their next request."""
    cache = current_app.extensions.setdefault("free_slot_cache", {})
    version = schedule_version(session)
    minute = now.replace(second=0, microsecond=0)
    entry = cache.get(rules)
    if entry is not None:
        cached_version, cached_minute, computed = entry
        expired = computed.valid_until is not None and computed.valid_until <= now
        if cached_version == version and cached_minute == minute and not expired:
            return computed
    computed = _compute(session, rules, now, start, end)
    cache[rules] = (version, minute, computed)
    return computed


def slot_rules(config) -> SlotRules:
    """The rules from the app's (already parsed) settings."""

    return SlotRules(
        clinic_tz=clinic_zone(),
        consult=timedelta(minutes=config["CONSULT_MINUTES"]),
        min_notice=config["BOOKING_MIN_NOTICE"],
        horizon=config["BOOKING_HORIZON"],
    )


WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_HOURS = re.compile(r"\s*([a-z]{3})(?:\s*-\s*([a-z]{3}))?\s+(.+?)\s*-\s*([\d:.]+\s*(?:am|pm)?)\s*")
_CLOCK = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?")


def _clock(text: str) -> tuple[int, int, str | None]:
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise ValueError
    return int(match[1]), int(match[2] or 0), match[3]


def _as_time(hour: int, minute: int, half: str | None) -> time:
    if half == "pm" and hour < 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    return time(hour, minute)


def parse_hours(text: str) -> list[tuple[int, time, time]]:
    """``"mon-fri 09:00-17:00"``, ``"sat 10-13"``, ``"mon-fri 9-5"`` (an end before the start
    without am/pm is in the afternoon) or ``"tue 9am-1pm"`` into (weekday, start, end) rows."""
    match = _HOURS.fullmatch(text.lower())
    if not match or match[1] not in WEEKDAYS or (match[2] and match[2] not in WEEKDAYS):
        raise ValueError(f'"{text}": write hours like "mon-fri 09:00-17:00"')
    first = WEEKDAYS.index(match[1])
    last = WEEKDAYS.index(match[2]) if match[2] else first
    try:
        start_hour, start_minute, start_half = _clock(match[3])
        end_hour, end_minute, end_half = _clock(match[4])
        start = _as_time(start_hour, start_minute, start_half)
        end = _as_time(end_hour, end_minute, end_half)
        if end <= start and not end_half and end_hour < 12 and start.hour < 12:
            end = time(end_hour + 12, end_minute)  # "9-5": nine to five
    except ValueError:
        raise ValueError(f'"{text}": that is not a time of day') from None
    if start >= end or last < first:
        raise ValueError(f'"{text}": the hours must start before they end')
    return [(day, start, end) for day in range(first, last + 1)]


def set_weekly_hours(consultant: StaffUser, lines: list[str]) -> int:
    """Replace a consultant's weekly hours with those written in ``lines`` (one block each,
    blank lines ignored); raise ``ValueError`` naming the first bad line, changing nothing.
    Returns the number of day blocks. The caller commits."""
    rows = [row for text in lines if text.strip() for row in parse_hours(text.strip())]
    consultant.hours = [
        WeeklyHours(weekday=day, start_time=start, end_time=end) for day, start, end in rows
    ]
    return len(rows)


def outside_availability(
    session: Session, rules: SlotRules, now: datetime, consultant_ids: list[int] | None = None
) -> list[Appointment]:
    """Upcoming confirmed consults that no longer fit their consultant's hours or fall in time
    off: changing availability never drops a booking silently; staff see these to move or keep.
    """
    query = (
        sa.select(Appointment)
        .where(Appointment.status == AppointmentStatus.CONFIRMED, Appointment.starts_at > now)
        .options(so.joinedload(Appointment.consultant).selectinload(StaffUser.hours))
        .order_by(Appointment.starts_at)
    )
    if consultant_ids is not None:
        query = query.where(Appointment.consultant_id.in_(consultant_ids))
    appointments = session.scalars(query).unique().all()
    if not appointments:
        return []
    away: dict[int | None, list[tuple[datetime, datetime]]] = defaultdict(list)
    for row in session.scalars(sa.select(TimeOff).where(TimeOff.ends_at > now)):
        away[row.consultant_id].append((row.starts_at, row.ends_at))
    time_off = {key: _merged(intervals) for key, intervals in away.items()}
    closures = time_off.get(None, [])
    outside = []
    for appointment in appointments:
        local_start = appointment.starts_at.astimezone(rules.clinic_tz)
        local_end = appointment.ends_at.astimezone(rules.clinic_tz)
        in_hours = any(
            block.weekday == local_start.weekday()
            and block.start_time <= local_start.time()
            and local_end.time() <= block.end_time
            and local_end.date() == local_start.date()
            for block in appointment.consultant.hours
        )
        blocked = _overlaps(closures, appointment.starts_at, appointment.ends_at) or _overlaps(
            time_off.get(appointment.consultant_id, []), appointment.starts_at, appointment.ends_at
        )
        if not in_hours or blocked or not appointment.consultant.active:
            outside.append(appointment)
    return outside
