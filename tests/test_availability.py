"""Free slots: weekly hours in the clinic's zone, notice, horizon, time off, bookings, DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.core.models import Appointment, StaffUser, TimeOff
from booking.extensions import db
from booking.scheduling.availability import SlotRules, free_slots
from booking.scheduling.chosen_time import consultants_free_at
from booking.web.picker import build_picker
from tests.helpers import add_booking

KOLKATA = ZoneInfo("Asia/Kolkata")


def rules(tz=KOLKATA, notice=timedelta(hours=2), horizon=timedelta(days=30)):
    return SlotRules(
        clinic_tz=tz, consult=timedelta(minutes=30), min_notice=notice, horizon=horizon
    )


def at(text, tz=KOLKATA):
    return datetime.fromisoformat(text).replace(tzinfo=tz).astimezone(UTC)


def book(consultant, starts_at, status="confirmed"):
    add_booking(consultant, starts_at, status)
    db.session.commit()


@pytest.fixture
def weekday_consultant(create_consultant):
    return create_consultant("Dr Weekday", days=range(5), start=time(9), end=time(17))


MONDAY_MORNING = at("2027-01-04T07:00")  # Monday 4 January 2027, 07:00 in Kolkata


def test_grid_inside_weekly_hours(weekday_consultant):
    slots = free_slots(db.session, rules(horizon=timedelta(days=1)), MONDAY_MORNING)
    local = [moment.astimezone(KOLKATA).strftime("%H:%M") for moment in slots]
    assert local[0] == "09:00" and local[-1] == "16:30"
    assert len(local) == 16  # 09:00 to 17:00 in 30-minute consults


def test_minimum_notice_and_horizon(weekday_consultant):
    now = at("2027-01-04T10:10")
    slots = list(free_slots(db.session, rules(), now))
    assert slots[0] == at("2027-01-04T12:30")  # 2 hours' notice, then the next grid slot
    assert slots[-1] <= now + timedelta(days=30)
    saturdays = [s for s in slots if s.astimezone(KOLKATA).weekday() == 5]
    assert not saturdays


def test_booked_slot_stays_free_while_another_consultant_is(create_consultant):
    first = create_consultant("Dr One", days=range(5), start=time(9), end=time(17))
    second = create_consultant("Dr Two", days=range(5), start=time(9), end=time(17))
    nine = at("2027-01-04T09:00")
    book(first, nine)
    slots = free_slots(db.session, rules(), MONDAY_MORNING)
    assert slots[nine] == [second.id]
    book(second, nine)
    assert nine not in free_slots(db.session, rules(), MONDAY_MORNING)


def test_cancelled_booking_frees_the_slot(weekday_consultant):
    nine = at("2027-01-04T09:00")
    book(weekday_consultant, nine, status="cancelled")
    assert nine in free_slots(db.session, rules(), MONDAY_MORNING)


def test_time_off_and_clinic_closure(create_consultant):
    first = create_consultant("Dr One", days=range(5), start=time(9), end=time(17))
    second = create_consultant("Dr Two", days=range(5), start=time(9), end=time(17))
    db.session.add(
        TimeOff(
            consultant_id=first.id, starts_at=at("2027-01-04T09:00"), ends_at=at("2027-01-04T12:00")
        )
    )
    db.session.add(
        TimeOff(
            consultant_id=None,
            starts_at=at("2027-01-05T00:00"),
            ends_at=at("2027-01-06T00:00"),
            reason="Holiday",
        )
    )
    db.session.commit()
    slots = free_slots(db.session, rules(), MONDAY_MORNING)
    assert slots[at("2027-01-04T09:00")] == [second.id]
    assert slots[at("2027-01-04T12:00")] == sorted([first.id, second.id])
    assert not [s for s in slots if s.astimezone(KOLKATA).date().isoformat() == "2027-01-05"]


def test_inactive_consultant_offers_nothing(weekday_consultant):
    weekday_consultant.active = False
    db.session.commit()
    assert free_slots(db.session, rules(), MONDAY_MORNING) == {}


def test_least_busy_consultant_is_chosen_first(create_consultant):
    first = create_consultant("Dr One", days=range(5), start=time(9), end=time(17))
    second = create_consultant("Dr Two", days=range(5), start=time(9), end=time(17))
    book(first, at("2027-01-04T09:00"))
    assert consultants_free_at(db.session, rules(), MONDAY_MORNING, at("2027-01-04T10:00")) == [
        second.id,
        first.id,
    ]


def test_clinic_hours_follow_the_clinics_own_daylight_saving(create_consultant):
    london = ZoneInfo("Europe/London")
    create_consultant("Dr London", days=range(7), start=time(9), end=time(10))
    now = at("2027-03-26T00:00", london)
    slots = free_slots(db.session, rules(tz=london, horizon=timedelta(days=4)), now)
    by_day = {
        s.astimezone(london).date().isoformat(): s
        for s in slots
        if s.astimezone(london).hour == 9 and s.astimezone(london).minute == 0
    }
    assert by_day["2027-03-27"].hour == 9  # GMT: 09:00 local is 09:00 UTC
    assert by_day["2027-03-29"].hour == 8  # BST: 09:00 local is 08:00 UTC


def test_new_york_patient_sees_right_times_across_their_dst_change(app, create_consultant):
    """Clinic in Kolkata (no DST); New York moves its clocks on Sunday 14 March 2027."""
    create_consultant("Dr Evening", days=range(5), start=time(19), end=time(21))
    now = at("2027-03-10T12:00")
    slots = free_slots(db.session, rules(horizon=timedelta(days=7)), now)
    new_york, kolkata = ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")

    def times_on(day: str) -> dict[str, str]:
        picker = build_picker(slots, new_york, kolkata, wanted_day=date.fromisoformat(day))
        return {t.value: f"{t.label} (clinic {t.clinic_label})" for t in picker.times}

    friday, monday = times_on("2027-03-12"), times_on("2027-03-15")
    assert friday["2027-03-12T14:00:00Z"] == "09:00 EST (clinic 19:30 IST)"
    assert monday["2027-03-15T14:00:00Z"] == "10:00 EDT (clinic 19:30 IST)"
    # Same clinic time, one hour later for the patient: 19:00 IST is 08:30 EST, 09:30 EDT.
    assert friday["2027-03-12T13:30:00Z"] == "08:30 EST (clinic 19:00 IST)"
    assert monday["2027-03-15T13:30:00Z"] == "09:30 EDT (clinic 19:00 IST)"


def test_the_clinic_time_beside_a_time_names_its_day_when_that_differs(app, create_consultant):
    """A daughter in New Jersey at 22:30 on Monday is booking Tuesday 09:00 in Pune."""
    create_consultant("Dr Morning", days=range(5), start=time(9), end=time(10))
    now = at("2027-03-01T00:00")  # a Monday
    slots = free_slots(db.session, rules(horizon=timedelta(days=7)), now)
    new_york, kolkata = ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")
    picker = build_picker(slots, new_york, kolkata, wanted_day=date(2027, 3, 1))
    first = picker.times[0]
    assert (first.label, first.clinic_label) == ("22:30 EST", "Tue 09:00 IST")
    assert first.summary == "Monday 1 March, 22:30 your time (Tuesday 09:00 IST at the clinic)"
    # The same day in both places: the clinic's time alone.
    london = build_picker(slots, ZoneInfo("Europe/London"), kolkata, wanted_day=date(2027, 3, 2))
    assert london.times[0].clinic_label == "09:00 IST"


def test_slot_query_count_does_not_grow_with_bookings(app, create_consultant):
    """The schedule's version and three queries for 30 days of slots, however many bookings
    there are; then, until the schedule changes, the version alone."""
    consultants = [
        create_consultant(f"Dr {i}", days=range(5), start=time(9), end=time(17)) for i in range(3)
    ]
    for day in range(10):
        book(consultants[0], at("2027-01-04T09:00") + timedelta(days=day))
    statements = []
    sa.event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    first = free_slots(db.session, rules(), MONDAY_MORNING)
    assert len(statements) == 4, statements
    statements.clear()
    assert free_slots(db.session, rules(), MONDAY_MORNING + timedelta(seconds=20)) == first
    assert len(statements) == 1 and "schedule_version" in statements[0]
    assert db.session.scalar(sa.select(sa.func.count(StaffUser.id))) == 3


def test_an_old_zone_name_is_the_same_zone_under_its_current_name(client, consultant, booking_form):
    """Chrome reports "Asia/Calcutta"; shown as it is, a patient read two different times."""
    page = client.get("/book?tz=Asia/Calcutta").get_data(as_text=True)
    assert '<option value="Asia/Kolkata" selected>India</option>' in page
    assert 'value="Asia/Calcutta"' not in page
    assert "(clinic" not in page  # one zone: the clinic's time is not repeated beside each
    data = booking_form(tz="Asia/Kolkata")
    data.update(timezone="Asia/Calcutta")
    assert client.post("/book", data=data).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.patient_timezone == "Asia/Kolkata"
    confirmation = client.get("/book/confirmed").get_data(as_text=True)
    assert "at the clinic" not in confirmation
