"""Holding a time costs nothing and needs no name, so holds are bounded: a burst of them from
a few addresses leaves most of every day bookable for the next family."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from booking.core.models import SlotClaim
from booking.core.timeutil import clinic_today
from booking.extensions import db
from tests.helpers import csrf_token, offered_times
from tests.test_booking_steps import slots

INDIA = ZoneInfo("Asia/Kolkata")


def day_of(slot: str):
    return datetime.fromisoformat(slot).astimezone(INDIA).date()


def try_to_hold(app, address: str, slot: str):
    """A fresh browser (new cookies) at ``address`` chooses ``slot``."""
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = address
    token = csrf_token(browser.get("/book?tz=Asia/Kolkata").get_data(as_text=True))
    return browser.post(
        "/book/time", data={"csrf_token": token, "slot": slot, "timezone": "Asia/Kolkata"}
    )


def test_sixty_holds_from_three_addresses_leave_the_first_day_bookable(app, create_consultant):
    app.config["BOOKING_RATE_LIMIT"] = "20 per hour"  # the setting's default, per address
    # Hours on one weekday only, three days ahead: the first bookable day has all its times
    # whatever the hour the test runs.
    first_day = clinic_today() + timedelta(days=3)
    create_consultant(days=[first_day.weekday()], start=time(9), end=time(17))
    times_on_first_day = [s for s in slots(app) if day_of(s) == first_day]
    assert len(times_on_first_day) == 16

    # The attack: fresh sessions from three addresses, each holding the earliest time of the
    # earliest day that still takes one.
    held, crowded_days = 0, set()
    for attempt in range(90):
        address = f"203.0.113.{attempt % 3 + 1}"
        for slot in slots(app):
            if day_of(slot) in crowded_days:
                continue
            response = try_to_hold(app, address, slot)
            if response.status_code == 303:
                held += 1
                break
            if response.status_code == 409 and "Many people are choosing times" in response.text:
                crowded_days.add(day_of(slot))
                continue
            break  # over the address's limit (429): it made what it could
    assert held >= 12 and first_day in crowded_days

    # A family arriving now still finds the first bookable day, with most of its times.
    page = app.test_client().get("/book?tz=Asia/Kolkata").get_data(as_text=True)
    offered = offered_times(page)
    assert offered and all(day_of(slot) == first_day for slot in offered)
    assert len(offered) >= 12  # three quarters of 16
    live = db.session.scalar(
        sa.select(sa.func.count(SlotClaim.id)).where(SlotClaim.appointment_id.is_(None))
    )
    assert live == held


def test_booking_without_a_hold_is_not_bounded(app, client, create_consultant, booking_form):
    first_day = clinic_today() + timedelta(days=3)
    create_consultant(days=[first_day.weekday()], start=time(9), end=time(10))  # two times
    both = [s for s in slots(app) if day_of(s) == first_day]
    app.config["HOLDS_PER_DAY_MIN"] = 1
    assert try_to_hold(app, "203.0.113.1", both[0]).status_code == 303
    refused = try_to_hold(app, "203.0.113.2", both[1])
    assert refused.status_code == 409 and "Many people are choosing times" in refused.text
    # The form sent whole, without a hold, still books the other time.
    assert client.post("/book", data=booking_form(slot=both[1])).status_code == 302


def test_the_desk_holds_for_a_caller_on_a_crowded_day(app, staff_client, create_consultant):
    first_day = clinic_today() + timedelta(days=3)
    create_consultant(days=[first_day.weekday()], start=time(9), end=time(10))
    both = [s for s in slots(app) if day_of(s) == first_day]
    app.config["HOLDS_PER_DAY_MIN"] = 1
    assert try_to_hold(app, "203.0.113.1", both[0]).status_code == 303
    page = staff_client.get("/staff/book?tz=Asia/Kolkata").get_data(as_text=True)
    response = staff_client.post(
        "/staff/book/time",
        data={"csrf_token": csrf_token(page), "slot": both[1], "timezone": "Asia/Kolkata"},
    )
    assert response.status_code == 303
