"""What the desk sees first: the next consults while the day is on, the next working day once
it is over or closed (on a Saturday, Monday); and the list starts from today, remembering the
filters last used."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from booking.appointments.front_desk import desk_view
from booking.core.models import Appointment, TimeOff
from booking.extensions import db
from tests.clock import clinic_slot, monday_ahead

INDIA = ZoneInfo("Asia/Kolkata")


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    """``day`` (a Monday ahead) at this clock time in India, in UTC."""
    return datetime.combine(day.date(), time(hour, minute), INDIA).astimezone(UTC)


def test_on_a_saturday_the_desk_sees_monday(app, create_consultant, book_at):
    create_consultant("Dr Weekday", days=range(5), start=time(9), end=time(17))
    monday = monday_ahead()
    saturday_noon = at(monday - timedelta(days=2), 12)
    made_on = saturday_noon - timedelta(days=7)
    first = book_at(at(monday, 10), made_on, index=0, patient_phone="+919812345678").appointment
    book_at(at(monday, 11), made_on, index=1, urgent=True)
    book_at(at(monday + timedelta(days=1), 10), made_on, index=2)  # Tuesday: not shown

    view = desk_view(db.session, saturday_noon, INDIA)
    assert view.title.startswith("The clinic is closed today. Next working day: Monday")
    assert [a.starts_at for a in view.consults] == [at(monday, 10), at(monday, 11)]
    assert view.consults[0].reference == first.reference

    # A clinic-wide closure on Monday: the desk sees Tuesday.
    db.session.add(TimeOff(consultant_id=None, starts_at=at(monday, 0), ends_at=at(monday, 23)))
    db.session.commit()
    view = desk_view(db.session, saturday_noon, INDIA)
    assert "Tuesday" in view.title and len(view.consults) == 1


def test_during_the_day_the_next_ten_then_after_hours_the_next_day(app, create_consultant, book_at):
    create_consultant("Dr Weekday", days=range(5), start=time(9), end=time(17))
    monday = monday_ahead()
    made_on = monday - timedelta(days=7)
    for index in range(12):
        day = monday + timedelta(days=index // 4)
        book_at(at(day, 10 + index % 4), made_on, index=index)
    view = desk_view(db.session, at(monday, 9, 30), INDIA)
    assert view.title == "The next 10 consults" and len(view.consults) == 10
    assert view.consults[0].starts_at == at(monday, 10)
    # Monday after 17:00: Tuesday's four.
    view = desk_view(db.session, at(monday, 18), INDIA)
    assert view.title.startswith("Today is over. Next working day: Tuesday")
    assert len(view.consults) == 4


def test_the_home_page_lists_phone_mode_questionnaire_and_urgency(
    app, staff_client, create_consultant, book_at
):
    create_consultant("Dr Always")  # every day, all day
    now = datetime.now(UTC)
    tomorrow = (now.astimezone(INDIA) + timedelta(days=1)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    phoned = book_at(tomorrow.astimezone(UTC), now, urgent=True, patient_phone="+919812345678")
    video = book_at(tomorrow.astimezone(UTC) + timedelta(hours=1), now, 1, consult_mode="video")
    page = staff_client.get("/staff/").get_data(as_text=True)
    assert "+91 98123 45678" in page  # readable, and a tel: link
    assert 'href="tel:+919812345678"' in page
    assert "Phone call" in row_of(page, phoned.appointment.reference)
    assert "Video call" in row_of(page, video.appointment.reference)
    assert "not yet" in page and "Urgent" in page


def row_of(page: str, reference: str) -> str:
    """The table row (or card) of one booking on a staff page."""
    at = page.rindex(reference)
    return page[page.rindex("<tr", 0, at) : page.index("</tr>", at)]


def test_the_list_starts_from_today_and_remembers_the_filters(
    app, staff_client, create_consultant, book_at
):
    create_consultant("Dr Always")
    now = datetime.now(UTC)
    past = book_at(clinic_slot(-3), now - timedelta(days=10), index=0).appointment
    soon = book_at(clinic_slot(2), now, index=1).appointment
    later = book_at(clinic_slot(5), now, index=2).appointment
    refs = past.reference, soon.reference, later.reference

    page = staff_client.get("/staff/appointments").get_data(as_text=True)
    assert refs[0] not in page and page.index(refs[1]) < page.index(refs[2])
    everything = staff_client.get("/staff/appointments?date_from=").get_data(as_text=True)
    assert all(ref in everything for ref in refs)  # all dates: one click away
    again = staff_client.get("/staff/appointments").get_data(as_text=True)
    assert refs[0] in again  # the last filters, kept for the session
    reset = staff_client.get("/staff/appointments?reset=1").get_data(as_text=True)
    assert refs[0] not in reset and refs[1] in reset
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 3
