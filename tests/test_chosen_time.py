"""The check of one chosen time gives the answer the full list of free times gives.

The booking checks only the time chosen, with one query (``free_at.py``); the pages list
every free time (``availability.free_slots``). A schedule with split hours, hours that start
off the half hour, bookings, cancellations, time off, a clinic closure, an inactive
consultant and holds of several browsers (live, expired, and two browsers overlapping one
consultant) is asked at every quarter hour of the window, as each browser.
"""

import random
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta

from booking.core.models import SlotClaim, StaffUser, TimeOff, WeeklyHours
from booking.core.statuses import AppointmentStatus
from booking.core.timeutil import clinic_zone
from booking.extensions import db
from booking.scheduling.availability import free_slots, slot_rules
from booking.scheduling.chosen_time import consultants_free_at
from booking.scheduling.holds import holder_hash
from tests.databases import BOTH_DATABASES
from tests.helpers import add_booking

BROWSERS = [None, holder_hash("browser-one"), holder_hash("browser-two")]


def _consultant(
    name: str, blocks: list[tuple[Iterable[int], time, time]], active=True
) -> StaffUser:
    user = StaffUser(
        email=f"{name.lower().replace(' ', '')}@clinic.example",
        name=name,
        password_hash="x",
        role="staff",
        is_consultant=True,
        active=active,
    )
    user.hours = [
        WeeklyHours(weekday=day, start_time=start, end_time=end)
        for days, start, end in blocks
        for day in days
    ]
    db.session.add(user)
    return user


def _local(day, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clinic_zone()).astimezone(UTC)


def _hold(consultant: StaffUser, starts_at: datetime, browser: str, expires_at: datetime):
    db.session.add(
        SlotClaim(
            consultant_id=consultant.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            holder_hash=browser,
            expires_at=expires_at,
        )
    )


@BOTH_DATABASES
def test_one_time_is_free_for_exactly_whom_the_list_says(app):
    rules = slot_rules(app.config)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    first_day = (now + rules.min_notice).astimezone(clinic_zone()).date()
    days = [first_day + timedelta(days=number) for number in range(4)]
    weekdays = {day.weekday() for day in days}

    split = _consultant(
        "Dr Split", [(range(7), time(9), time(13)), (range(7), time(14), time(17, 30))]
    )
    offset = _consultant("Dr Quarter Past", [(range(7), time(10, 15), time(16, 45))])
    away = _consultant("Dr Away", [(range(7), time(9), time(17))])
    _consultant("Dr Gone", [(range(7), time(9), time(17))], active=False)
    _consultant("Dr Other Days", [([d for d in range(7) if d not in weekdays], time(9), time(17))])
    db.session.flush()  # the ids, for the time off and the holds below
    db.session.add(
        TimeOff(consultant_id=away.id, starts_at=_local(days[0], 11), ends_at=_local(days[0], 13))
    )
    db.session.add(
        TimeOff(
            consultant_id=None,
            starts_at=_local(days[2], 12),
            ends_at=_local(days[2], 15),
            reason="Closed",
        )
    )

    chance = random.Random(20261129)
    people = [split, offset, away]
    booked = set()
    for _ in range(40):
        consultant = chance.choice(people)
        day = chance.choice(days)
        starts_at = _local(day, chance.randrange(9, 17), chance.choice([0, 15, 30, 45]))
        status = chance.choice([AppointmentStatus.CONFIRMED] * 3 + [AppointmentStatus.CANCELLED])
        if status == AppointmentStatus.CONFIRMED:
            if (consultant.name, starts_at) in booked:
                continue
            booked.add((consultant.name, starts_at))
        add_booking(consultant, starts_at, status, minutes=chance.choice([30, 45, 60]))
    holds = [
        (split, _local(days[1], 9), BROWSERS[1], now + timedelta(minutes=10)),
        (split, _local(days[1], 9, 30), BROWSERS[2], now - timedelta(minutes=1)),  # expired
        (offset, _local(days[1], 10, 15), BROWSERS[1], now + timedelta(minutes=10)),
        (offset, _local(days[1], 10, 30), BROWSERS[2], now + timedelta(minutes=10)),  # overlaps
        (away, _local(days[3], 9), BROWSERS[2], now + timedelta(minutes=10)),
    ]
    for consultant, starts_at, browser, expires_at in holds:
        _hold(consultant, starts_at, browser, expires_at)
    db.session.commit()

    free_somewhere = 0
    for browser in BROWSERS:
        listed = free_slots(db.session, rules, now, holder=browser)
        for day in days:
            for quarter in range(8 * 4, 18 * 4):
                moment = _local(day, quarter // 4, quarter % 4 * 15)
                found = consultants_free_at(db.session, rules, now, moment, browser)
                assert sorted(found) == listed.get(moment, []), (moment, browser)
                free_somewhere += bool(found)
    # Free and taken times both occur, so the comparison means something.
    assert 0 < free_somewhere < len(BROWSERS) * len(days) * 40


@BOTH_DATABASES
def test_outside_the_notice_and_the_horizon_nobody_is_free(app, consultant):
    rules = slot_rules(app.config)
    now = datetime.now(UTC)
    listed = list(free_slots(db.session, rules, now))
    first, last = listed[0], listed[-1]
    assert consultants_free_at(db.session, rules, now, first) == [consultant.id]
    assert consultants_free_at(db.session, rules, now, last) == [consultant.id]
    assert consultants_free_at(db.session, rules, now, first - rules.consult) == []
    assert consultants_free_at(db.session, rules, now, last + rules.consult) == []
