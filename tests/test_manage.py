"""The manage link: the patient's own page for a booking, with the least personal data."""

import html
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa

from booking.appointments.bookings import book_and_commit
from booking.core.models import Appointment, AuditEvent, Reminder
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from tests.databases import BOTH_DATABASES
from tests.factories import VALID_ANSWERS
from tests.helpers import csrf_token, day_links, offered_times

# The flows staff and patients use every day run on both databases.
pytestmark = BOTH_DATABASES

PRIVATE = [
    VALID_ANSWERS["diagnosis_details"],
    VALID_ANSWERS["treatment_details"],
    VALID_ANSWERS["treating_hospital"],
    VALID_ANSWERS["insurer"],
    VALID_ANSWERS["tpa"],
    VALID_ANSWERS["birth_date"],
    "1962",
    VALID_ANSWERS["policy_holder"],
    VALID_ANSWERS["own_questions"],
    "Melanoma",
    "Interferon",
    "Stage",
    "insurance",
]


@pytest.fixture
def booked(client, consultant, booking_form, smtp):
    """A booking made through the form a week ahead, and the token from its email."""

    def make(slot_index=250, **changes):
        client.post("/book", data=booking_form(slot_index=slot_index, **changes))
        dispatch_outbox(db.session)
        confirmation = [m for m in smtp.messages if "is booked" in m["Subject"]][-1]
        text = confirmation.get_body(("plain",)).get_content()
        token = re.search(r"/manage/([\w-]+)", text)[1]
        appointment = db.session.scalar(
            sa.select(Appointment).order_by(Appointment.id.desc()).limit(1)
        )
        return appointment, token

    return make


def assert_private(page):
    for value in PRIVATE:
        assert value.lower() not in page.lower(), value


def test_manage_page_shows_the_booking_and_nothing_private(client, booked):
    appointment, token = booked()
    response = client.get(f"/manage/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert appointment.reference in page
    assert "Move to another time" in page and "Cancel the consult" in page
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert_private(page)
    assert_private(client.get(f"/manage/{token}/move").get_data(as_text=True))


@pytest.mark.parametrize("token", ["nonsense", "A" * 43, "../../etc/passwd", "x" * 500])
def test_wrong_token_gets_a_friendly_404(client, booked, token):
    booked()  # a booking exists: a lookup that ignored the token would find it
    response = client.get(f"/manage/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "This link does not work" in page or "Page not found" in page


def test_patient_cancels_with_a_reason(client, booked, smtp):
    appointment, token = booked()
    # A second step names the consult, with a way back; nothing is cancelled by it.
    second = client.get(f"/manage/{token}/cancel")
    page = second.get_data(as_text=True)
    assert second.status_code == 200 and appointment.reference in page
    assert "Yes, cancel my consult" in page and f'href="/manage/{token}">No, keep' in page
    db.session.refresh(appointment)
    assert appointment.status == "confirmed"
    response = client.post(
        f"/manage/{token}/cancel",
        data={"csrf_token": csrf_token(page), "reason": "Feeling better"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert response.status_code == 302
    after = client.get(response.headers["Location"])
    text = after.get_data(as_text=True)
    assert after.status_code == 200  # the link worked: it is the booking that is cancelled
    assert "This booking is cancelled" in text and "Your consult is cancelled" in text
    assert_private(text)

    db.session.refresh(appointment)
    assert appointment.status == "cancelled" and appointment.version == 1
    assert appointment.cancel_reason == "Feeling better"
    assert set(db.session.scalars(sa.select(Reminder.status))) <= {"cancelled", "skipped"}
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "cancelled"))
    assert (event.actor, event.ip_address, event.appointment_id) == (
        "patient",
        "203.0.113.9",
        appointment.id,
    )

    dispatch_outbox(db.session)
    desk = next(
        m
        for m in smtp.messages
        if "cancelled" in m.get_body(("plain",)).get_content()
        and m["To"] == "reception@clinic.example"
    )
    assert "by the patient, with the link in their email" in desk.get_body(("plain",)).get_content()
    cancellation = next(m for m in smtp.messages if "is cancelled" in m["Subject"])
    part = next(p for p in cancellation.iter_attachments())
    calendar = icalendar.Calendar.from_ical(part.get_content())
    assert calendar["method"] == "CANCEL"
    assert int(calendar.walk("VEVENT")[0]["sequence"]) == 1
    staff = next(m for m in smtp.messages if m["Subject"].startswith("Cancelled"))
    assert "Feeling better" not in staff.as_string()
    # The token of a cancelled booking changes nothing any more.
    again = client.post(f"/manage/{token}/cancel", data={"csrf_token": csrf_token(page)})
    assert again.status_code == 409


def test_cancel_without_csrf_token_changes_nothing(client, booked):
    appointment, token = booked()
    response = client.post(f"/manage/{token}/cancel", data={"reason": "x"})
    assert response.status_code == 422
    db.session.refresh(appointment)
    assert appointment.status == "confirmed"


def test_no_change_on_get(client, booked):
    appointment, token = booked()
    client.get(f"/manage/{token}/cancel")
    db.session.refresh(appointment)
    assert appointment.status == "confirmed"


def test_patient_moves_to_another_time(client, booked, smtp):
    appointment, token = booked(slot_index=250)
    old_start = appointment.starts_at
    page = client.get(f"/manage/{token}/move").get_data(as_text=True)
    page = client.get(day_links(page)[3]).get_data(as_text=True)  # days ahead: still changeable
    # The booking's picker: a day, then its times, none of them chosen.
    assert 'aria-label="Days with free times"' in page and 'name="slot" id="slot-0"' in page
    # The zones people book from, not a raw list starting at Africa/Abidjan.
    assert "Another time zone" in page and "Abidjan" not in page
    slots = offered_times(page)
    assert len(slots) > 1 and " checked" not in page
    new_slot = slots[-1]
    chosen = {"csrf_token": csrf_token(page), "timezone": "Asia/Kolkata", "slot": new_slot}
    check = client.post(f"/manage/{token}/move", data=chosen)
    text = check.get_data(as_text=True)
    assert check.status_code == 200 and "You are moving to" in text
    new_local = datetime.fromisoformat(new_slot).astimezone(ZoneInfo("Asia/Kolkata"))
    assert f"{new_local.day} {new_local:%B}, {new_local:%H:%M} your time" in text
    db.session.refresh(appointment)
    assert appointment.starts_at == old_start  # nothing moves before the second press
    response = client.post(f"/manage/{token}/move", data={**chosen, "confirm": "yes"})
    assert response.status_code == 302
    assert "has moved" in client.get(f"/manage/{token}").get_data(as_text=True)
    db.session.refresh(appointment)
    assert appointment.starts_at != old_start
    assert appointment.starts_at.isoformat().replace("+00:00", "Z") == new_slot
    assert appointment.version == 1
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "moved"))
    assert (event.actor, event.appointment_id) == ("patient", appointment.id)
    pending = db.session.scalars(sa.select(Reminder).where(Reminder.status == "pending")).all()
    assert {r.due_at for r in pending} == {
        appointment.starts_at - timedelta(hours=24),
        appointment.starts_at - timedelta(hours=2),
    }
    dispatch_outbox(db.session)
    moved = next(m for m in smtp.messages if "has moved" in m["Subject"])
    calendar = icalendar.Calendar.from_ical(next(moved.iter_attachments()).get_content())
    event = calendar.walk("VEVENT")[0]
    assert event.decoded("dtstart") == appointment.starts_at and int(event["sequence"]) == 1
    assert any(m["Subject"].startswith("Moved") for m in smtp.messages)


def test_move_to_a_time_just_taken_keeps_the_booking(client, booked, booking_form):
    appointment, token = booked(slot_index=250)
    page = client.get(f"/manage/{token}/move").get_data(as_text=True)
    page = client.get(day_links(page)[3]).get_data(as_text=True)  # days ahead: still changeable
    target = offered_times(page)[10]
    # Someone else books that time first.
    other = booking_form(patient_email="other@example.com")
    other["slot"] = target
    assert client.post("/book", data=other).status_code == 302
    response = client.post(
        f"/manage/{token}/move",
        data={
            "csrf_token": csrf_token(page),
            "timezone": "Asia/Kolkata",
            "shown_timezone": "Asia/Kolkata",
            "slot": target,
        },
    )
    assert response.status_code == 422
    assert "just taken" in response.get_data(as_text=True)
    db.session.refresh(appointment)
    assert appointment.version == 0


def test_after_the_cutoff_the_page_says_to_call(client, booked):
    appointment, token = booked(slot_index=0)  # about 2 hours ahead: inside the 4 h cut-off
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    assert "cannot be changed online" in page
    assert "Cancel the consult" not in page
    assert client.get(f"/manage/{token}/cancel").status_code == 409  # no second step either
    response = client.post(
        f"/manage/{token}/cancel",
        data={"csrf_token": csrf_token(client.get("/book").get_data(as_text=True))},
    )
    assert response.status_code == 409
    assert client.get(f"/manage/{token}/move").status_code == 409
    db.session.refresh(appointment)
    assert appointment.status == "confirmed"


def test_manage_pages_are_rate_limited(app, client, booked):
    _, token = booked()
    app.config["MANAGE_RATE_LIMIT"] = "3 per hour"
    codes = [client.get(f"/manage/{token}").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_move_race_lost_inside_the_transaction_reoffers_fresh_times(
    app, client, booked, create_consultant, monkeypatch
):
    """The time is free when the form is checked, but taken before the move commits."""
    from booking.appointments.changes import move_and_commit
    from tests.factories import booking_request

    appointment, token = booked(slot_index=250)
    create_consultant("Dr Second")  # so the booking's own time is free for someone else
    page = client.get(f"/manage/{token}/move").get_data(as_text=True)
    page = client.get(day_links(page)[3]).get_data(as_text=True)  # days ahead: still changeable
    target = offered_times(page)[20]
    starts_at = datetime.fromisoformat(target)

    def someone_else_first(session, appointment, new_start, now, actor):
        with app.app_context():  # both consultants are taken at that time
            for index in (77, 78):
                book_and_commit(db.session, booking_request(starts_at, index), now)
        return move_and_commit(session, appointment, new_start, now, actor)

    monkeypatch.setattr("booking.web.moving.move_and_commit", someone_else_first)
    response = client.post(
        f"/manage/{token}/move",
        data={
            "csrf_token": csrf_token(page),
            "timezone": "Asia/Kolkata",
            "slot": target,
            "confirm": "yes",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "just taken by someone else" in html
    offered = offered_times(html)
    assert target not in offered
    own = appointment.starts_at.isoformat().replace("+00:00", "Z")
    assert own not in offered  # the fresh list still leaves out the booking's own time
    own_day = appointment.starts_at.astimezone(ZoneInfo("Asia/Kolkata")).date().isoformat()
    own_day_times = offered_times(client.get(f"/manage/{token}/move?day={own_day}").text)
    assert own_day_times and own not in own_day_times
    db.session.refresh(appointment)
    assert (
        appointment.version == 0 and appointment.starts_at.isoformat().replace("+00:00", "Z") == own
    )


def test_move_that_loses_the_race_at_commit_changes_nothing(
    app, client, booked, create_consultant, monkeypatch
):
    """The consultants are free when the move looks, and taken by the time it commits: only the
    unique index can refuse it then, and the booking must stay exactly as it was."""
    import booking.appointments.changes
    from tests.factories import booking_request

    appointment, token = booked(slot_index=250)
    create_consultant("Dr Second")
    page = client.get(f"/manage/{token}/move").get_data(as_text=True)
    page = client.get(day_links(page)[3]).get_data(as_text=True)  # days ahead: still changeable
    target = offered_times(page)[20]
    starts_at = datetime.fromisoformat(target)
    real_lookup = booking.appointments.changes.consultants_free_at

    def free_then_taken(session, rules, now, moment):
        free = real_lookup(session, rules, now, moment)
        assert len(free) == 2
        with app.app_context():  # another request books both of them meanwhile
            for index in (77, 78):
                book_and_commit(db.session, booking_request(starts_at, index), now)
            db.session.remove()
        return free

    monkeypatch.setattr(booking.appointments.changes, "consultants_free_at", free_then_taken)
    response = client.post(
        f"/manage/{token}/move",
        data={
            "csrf_token": csrf_token(page),
            "timezone": "Asia/Kolkata",
            "slot": target,
            "confirm": "yes",
        },
    )
    assert response.status_code == 409
    assert "just taken by someone else" in response.get_data(as_text=True)
    db.session.expire_all()
    at_target = db.session.scalars(
        sa.select(Appointment).where(
            Appointment.starts_at == starts_at, Appointment.status != "cancelled"
        )
    ).all()
    assert len(at_target) == 2  # the two others; no third at the same time
    db.session.refresh(appointment)
    assert appointment.version == 0 and appointment.starts_at != starts_at


def test_move_in_the_readers_zone_asks_for_a_time_and_goes_back_to_the_day(client, booked):
    appointment, token = booked(timezone="America/New_York")
    move = f"/manage/{token}/move"
    first = client.get(move).text
    # The patient's own zone, with the clinic's time beside each time.
    assert "(clinic " in first and re.search(r">\d\d:\d\d E[SD]T <span", first)
    page = client.get(day_links(first)[2]).text
    # Continue with no time chosen: the message is at the times, the same day still shown.
    missed = client.post(move, data={"csrf_token": csrf_token(page), "timezone": "X/Nowhere"})
    assert missed.status_code == 422
    assert "Choose a time for the consult." in missed.text
    assert 'aria-describedby="slot-error"' in missed.text and offered_times(missed.text)
    # Shown in India instead, then chosen: the check names the time in that zone.
    india = client.get(f"{day_links(first)[2]}".replace("America%2FNew_York", "Asia%2FKolkata"))
    target = offered_times(india.text)[1]
    chosen = {"csrf_token": csrf_token(page), "timezone": "Asia/Kolkata", "slot": target}
    check = client.post(move, data=chosen).text
    local = datetime.fromisoformat(target).astimezone(ZoneInfo("Asia/Kolkata"))
    assert f"{local:%A} {local.day} {local:%B}, {local:%H:%M} your time</strong>" in check
    back = re.search(r'<a href="([^"]+)">No, choose another time</a>', check)[1]
    again = client.get(html.unescape(back)).text
    assert target in offered_times(again) and f"day={local.date().isoformat()}" in back
    db.session.refresh(appointment)
    assert appointment.version == 0
