"""Booking in two steps, through real HTTP: a day and a time first (held for the browser), then
the details; changing the time keeps every answer; Back after booking books nothing twice."""

from __future__ import annotations

import html
import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.appointments.booking_write import HoldGone, write
from booking.appointments.bookings import AlreadyBooked, TooManyBookings, book_and_commit
from booking.appointments.bookings import rows_for as booking_rows_for
from booking.appointments.changes import cancel_appointment
from booking.core.audit import Actor
from booking.core.models import Appointment, ScheduleVersion, SlotClaim
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.scheduling.availability import free_slots, slot_rules
from booking.scheduling.holds import HoldRefused, hold_and_commit, holder_hash
from booking.web.fields import slot_value
from tests.apps import make_app
from tests.databases import BOTH_DATABASES
from tests.factories import VALID_ANSWERS, booking_request
from tests.helpers import csrf_token, offered_times

DAY_LINK = re.compile(r'class="day(?: current)?" data-day href="[^"]*day=(\d{4}-\d\d-\d\d)')


def first_step(client, query="tz=Asia/Kolkata") -> str:
    response = client.get(f"/book?{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def choose(client, slot: str, tz="Asia/Kolkata"):
    token = csrf_token(first_step(client, f"tz={tz}"))
    return client.post("/book/time", data={"csrf_token": token, "slot": slot, "timezone": tz})


def slots(app) -> list[str]:
    return [
        slot_value(moment) for moment in free_slots(db.session, slot_rules(app.config), now_utc())
    ]


def test_the_first_step_offers_days_then_times_with_none_chosen(client, consultant):
    page = first_step(client)
    days = DAY_LINK.findall(page)
    assert 1 <= len(days) <= 14
    assert "Later dates" in page  # a consultant every day for 30 days: more than one page
    times = offered_times(page)
    assert times and "checked" not in page.split('id="slot"')[1].split("</fieldset>")[0]
    assert "No time chosen yet." in page
    assert "(clinic" not in page  # the patient is in the clinic's zone: one time is enough
    assert len(page.encode()) < 30_000  # the first screen stays small on a phone


def test_a_day_link_shows_that_days_times_and_later_dates_page_on(client, consultant):
    page = first_step(client)
    third = DAY_LINK.findall(page)[2]
    day_page = first_step(client, f"tz=Asia/Kolkata&day={third}")
    assert f'day={third}&amp;tz=Asia/Kolkata" aria-current="date"' in day_page
    local_days = {
        datetime.fromisoformat(value).astimezone(ZoneInfo("Asia/Kolkata")).date().isoformat()
        for value in offered_times(day_page)
    }
    assert local_days == {third}
    later = re.search(r'href="([^"]*from=(\d{4}-\d\d-\d\d)[^"]*)">Later dates', page)
    later_page = first_step(client, html.unescape(later[1]).split("?", 1)[1])
    assert DAY_LINK.findall(later_page)[0] == later[2] > DAY_LINK.findall(page)[-1]


def test_an_old_zone_name_is_the_same_zone(client, consultant):
    page = first_step(client, "tz=Asia/Calcutta")
    assert '<option value="Asia/Kolkata" selected>India</option>' in page
    assert "(clinic" not in page
    other = first_step(client, "tz=America/New_York")
    assert "(clinic" in other and ("EST" in other or "EDT" in other)
    assert other.index('value="America/New_York"') < other.index('value="Asia/Kolkata"')


def test_a_chosen_time_is_held_for_that_browser_only(app, client, consultant):
    target = slots(app)[3]
    response = choose(client, target)
    assert response.status_code == 303 and response.headers["Location"].endswith("/book/details")
    details = client.get("/book/details").get_data(as_text=True)
    assert re.search(r"We keep it for you until \d\d:\d\d", details)
    assert f'name="slot" value="{target}"' in details

    other = app.test_client()
    assert target not in slots_offered_to(other, target)  # one consultant: nobody else
    assert target in slots_offered_to(client, target)  # the holder still sees it

    response = choose(other, target)
    assert response.status_code == 409
    assert "just taken" in response.get_data(as_text=True)


def slots_offered_to(client, slot: str) -> list[str]:
    """The times offered on the slot's day, a day in the patient's zone (not the UTC date)."""
    day = datetime.fromisoformat(slot).astimezone(ZoneInfo("Asia/Kolkata")).date()
    return offered_times(first_step(client, f"tz=Asia/Kolkata&day={day.isoformat()}"))


def test_booking_within_the_hold_turns_it_into_the_booking(app, client, consultant, booking_form):
    target = slots(app)[5]
    choose(client, target)
    response = client.post("/book", data=booking_form(slot=target))
    assert response.status_code == 302
    claims = db.session.scalars(sa.select(SlotClaim)).all()
    assert len(claims) == 1 and claims[0].appointment_id is not None
    assert claims[0].expires_at is None and claims[0].holder_hash is None


def test_one_browser_holds_one_time(app, client, consultant):
    first, second = slots(app)[1], slots(app)[2]
    choose(client, first)
    choose(client, second)
    held = db.session.scalars(sa.select(SlotClaim.starts_at)).all()
    assert [slot_value(moment) for moment in held] == [second]
    assert first in slots_offered_to(app.test_client(), first)


def test_the_details_need_a_time_first(client, consultant):
    response = client.get("/book/details")
    assert response.status_code == 302 and response.headers["Location"].endswith("/book")
    page = client.get("/book").get_data(as_text=True)
    assert "Please choose a time first. A time is kept for you for 15 minutes" in page
    assert offered_times(page)  # and the times to choose from are there


def test_changing_the_time_keeps_every_answer(app, client, consultant, booking_form):
    first, later = slots(app)[1], slots(app)[60]
    choose(client, first)
    data = booking_form(slot=first, action="change_time")
    page = client.post("/book", data=data).get_data(as_text=True)
    assert 'value="Asha Verma"' in page and "Can I keep working during treatment?" in page
    assert 'name="show_day"' in page and 'class="error"' not in page

    # A day button sends its day (in the patient's zone) and no action, as a browser does.
    by_button = {key: value for key, value in data.items() if key != "action"}
    later_day = datetime.fromisoformat(later).astimezone(ZoneInfo(data["timezone"])).date()
    day = client.post("/book", data=dict(by_button, show_day=later_day.isoformat()))
    assert day.status_code == 200 and later in offered_times(day.get_data(as_text=True))
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0
    held = client.post("/book", data=dict(data, action="hold", slot=later))
    assert "Held for you until" in held.get_data(as_text=True)
    assert 'value="Asha Verma"' in held.get_data(as_text=True)
    assert client.post("/book", data=dict(data, action="book", slot=later)).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert slot_value(appointment.starts_at) == later
    assert db.session.scalar(sa.select(sa.func.count(SlotClaim.id))) == 1  # the first hold went


def test_a_time_taken_meanwhile_shows_the_picker_with_every_answer_kept(
    app, client, consultant, booking_form
):
    target = slots(app)[4]
    choose(app.test_client(), target)  # another browser holds it
    response = client.post("/book", data=booking_form(slot=target))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "no longer available" in page and 'name="show_day"' in page
    assert html.escape(VALID_ANSWERS["own_questions"]) in page


def test_back_after_booking_does_not_book_twice(app, client, consultant, booking_form):
    target = slots(app)[6]
    data = booking_form(slot=target)
    assert client.post("/book", data=data).status_code == 302
    assert client.post("/book", data=data).status_code == 302  # the same form: the same booking
    page = first_step(client)
    assert "You have just booked a consult" in page and "See your booking" in page
    assert page.index("You have just booked") < page.index('class="lead"')  # seen first

    again = client.post("/book", data=booking_form(slot=target))  # a fresh form, same time
    text = again.get_data(as_text=True)
    assert again.status_code == 409
    assert "already has a consult at this time" in text and "/book/confirmed" in text
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 1


def test_the_error_summary_follows_the_page_order(client, consultant, booking_form):
    data = booking_form(booked_by=None, patient_name="", consent_health=None)
    page = client.post("/book", data=data).get_data(as_text=True)
    summary = page[page.index("error-summary") : page.index("</ul>", page.index("error-summary"))]
    order = [summary.index(f'href="#{name}"') for name in ("booked_by", "patient_name")]
    assert order == sorted(order) and summary.index('href="#consent_health"') > order[-1]


def test_the_booking_limit_counts_bookings_and_keeps_the_answers(
    app, client, consultant, booking_form
):
    app.config["BOOKING_RATE_LIMIT"] = "2 per hour"
    for _ in range(3):  # forms with errors do not count
        assert client.post("/book", data=booking_form(patient_name="")).status_code == 422
    for index in range(2):
        assert client.post("/book", data=booking_form(slot_index=index)).status_code == 302
    response = client.post("/book", data=booking_form(slot_index=5))
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "please press Book again in" in page and 'value="Asha Verma"' in page
    assert int(response.headers["Retry-After"]) > 0
    assert client.get("/book").status_code == 200  # reading is never limited


@BOTH_DATABASES
def test_a_booking_bumps_its_consultants_schedule_version(app, create_consultant):
    """The PostgreSQL booking statement repeats the bump that ``schedule_version.bump_on``
    does elsewhere: a booking must raise its consultant's version (and no one else's), or the
    booked time would stay on every web process's cached page."""
    first, other = create_consultant("Dr First"), create_consultant("Dr Other")
    rules = slot_rules(app.config)
    now = now_utc()
    times = list(free_slots(db.session, rules, now))

    def versions() -> dict[int, int]:
        rows = db.session.execute(sa.select(ScheduleVersion.scope, ScheduleVersion.version))
        return {scope: version for scope, version in rows}

    for index, starts_at in enumerate(times[:3]):  # the second and third raise existing rows
        before = versions()
        result = book_and_commit(db.session, booking_request(starts_at, index), now)
        db.session.expire_all()
        after = versions()
        mine = result.appointment.consultant_id
        theirs = first.id if mine == other.id else other.id
        assert after[mine] == before.get(mine, 0) + 1
        assert after.get(theirs) == before.get(theirs)
        # The cached free times follow: the booked consultant is no longer offered then.
        assert mine not in free_slots(db.session, rules, now).get(starts_at, [])


@BOTH_DATABASES
def test_an_expired_hold_blocks_nobody(app, consultant):
    rules = slot_rules(app.config)
    now = now_utc()
    starts_at = next(iter(free_slots(db.session, rules, now)))
    hold_and_commit(db.session, "browser-one", starts_at, rules, now - timedelta(minutes=20))
    assert starts_at in free_slots(db.session, rules, now)  # expired: offered again
    with pytest.raises(HoldRefused):  # while it was live, nobody else could take it
        hold_and_commit(db.session, "browser-two", starts_at, rules, now - timedelta(minutes=19))
    result = book_and_commit(db.session, booking_request(starts_at), now)
    assert result.appointment.starts_at == starts_at
    claims = db.session.scalars(sa.select(SlotClaim)).all()
    assert [claim.appointment_id for claim in claims] == [result.appointment.id]


@BOTH_DATABASES
def test_a_hold_and_a_booking_never_share_a_consultants_time(app, consultant):
    rules = slot_rules(app.config)
    now = now_utc()
    starts_at = next(iter(free_slots(db.session, rules, now)))
    hold_and_commit(db.session, "browser-one", starts_at, rules, now)
    db.session.add(
        SlotClaim(
            consultant_id=consultant.id,
            starts_at=starts_at,
            ends_at=starts_at + rules.consult,
            holder_hash=holder_hash("browser-two"),
            expires_at=now + timedelta(minutes=15),
        )
    )
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()
    request = booking_request(starts_at, holder=holder_hash("browser-one"))
    assert book_and_commit(db.session, request, now).appointment.consultant_id == consultant.id


@BOTH_DATABASES
def test_a_hold_lost_before_the_write_lends_the_booking_nothing(app, consultant):
    """The write takes a hold only while it is still that browser's: otherwise the booking's
    rows all go, and the hold stays whose it was."""
    rules = slot_rules(app.config)
    now = now_utc()
    starts_at = next(iter(free_slots(db.session, rules, now)))
    hold = hold_and_commit(db.session, "browser-one", starts_at, rules, now)
    request = booking_request(starts_at, holder=holder_hash("browser-two"))
    rows = booking_rows_for(request, consultant.id, now, Actor.patient(), rules, hold.id)
    with pytest.raises(HoldGone):
        write(db.session.connection(), rows, now)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 0
    claim = db.session.scalars(sa.select(SlotClaim)).one()
    assert (claim.holder_hash, claim.appointment_id) == (holder_hash("browser-one"), None)


@BOTH_DATABASES
def test_what_an_earlier_booking_of_the_same_email_means(app, consultant):
    """The same form again finds its booking; a new form for the same email and time is
    refused; the per-email limit counts only consults still to come and not cancelled."""
    app.config["MAX_BOOKINGS_PER_EMAIL"] = 2
    rules = slot_rules(app.config)
    now = now_utc()
    times = list(free_slots(db.session, rules, now))[:4]
    first = book_and_commit(db.session, booking_request(times[0], index=1), now)
    again = book_and_commit(db.session, booking_request(times[0], index=1), now)
    assert again.duplicate and again.appointment_id == first.appointment_id
    same_time = booking_request(times[0], index=2, patient_email="patient1@example.com")
    with pytest.raises(AlreadyBooked):
        book_and_commit(db.session, same_time, now)
    second = booking_request(times[1], index=3, patient_email="patient1@example.com")
    book_and_commit(db.session, second, now)
    third = booking_request(times[2], index=4, patient_email="patient1@example.com")
    with pytest.raises(TooManyBookings):
        book_and_commit(db.session, third, now)
    cancel_appointment(db.session, first.appointment, now, Actor.patient())
    db.session.commit()
    assert not book_and_commit(db.session, third, now).duplicate
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 3


@BOTH_DATABASES
def test_a_held_booking_reads_nothing_twice_and_writes_in_one_go(
    app, database_url, client, consultant, booking_form
):
    """The booking request as a patient makes it (the time held first): the hold is read once,
    no statement is sent twice, and on PostgreSQL every row is written by one statement."""
    target = slots(app)[5]
    choose(client, target)
    data = booking_form(slot=target)  # the form as the page gave it (this fetches the page)
    sent: list[str] = []

    def listener(conn, cursor, statement, *args):
        sent.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.post("/book", data=data).status_code == 302
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert len(sent) == len(set(sent)), sent
    assert (
        sum("FROM slot_claim" in statement and "holder_hash =" in statement for statement in sent)
        == 1
    )
    writes = [s for s in sent if s.startswith(("INSERT", "UPDATE", "DELETE", "WITH"))]
    if database_url.startswith("postgresql"):
        assert len(writes) == 1 and "INSERT INTO appointment" in writes[0], writes
    claim = db.session.scalars(sa.select(SlotClaim)).one()
    assert claim.appointment_id is not None and claim.holder_hash is None


def test_the_confirmation_is_honest_about_changing_online(app, client, consultant, booking_form):
    app.config["BOOKING_MIN_NOTICE"] = timedelta(0)
    assert client.post("/book", data=booking_form(slot=slots(app)[0])).status_code == 302
    soon = client.get("/book/confirmed").get_data(as_text=True)
    assert "can no longer be changed online" in soon and "manage your booking here" not in soon
    assert "Fill in the health questionnaire" in soon

    later = booking_form(slot=slots(app)[300], patient_email="ravi@example.com")
    assert client.post("/book", data=later).status_code == 302
    page = client.get("/book/confirmed").get_data(as_text=True)
    assert "manage your booking here" in page and "can no longer be changed" not in page


def test_an_unknown_zone_books_in_the_clinics_zone(client, consultant, booking_form):
    assert client.post("/book", data=booking_form(timezone="Mars/Olympus_Mons")).status_code == 302
    assert db.session.scalar(sa.select(Appointment.patient_timezone)) == "Asia/Kolkata"


@BOTH_DATABASES
def test_two_browsers_racing_for_the_last_consultant_get_one_hold(app, consultant):
    rules = slot_rules(app.config)
    now = now_utc()
    starts_at = next(iter(free_slots(db.session, rules, now)))
    db.session.remove()
    results: list[str] = []
    barrier = threading.Barrier(2)

    def choose(key):
        with app.app_context():
            barrier.wait()
            try:
                hold_and_commit(db.session, key, starts_at, rules, now)
                results.append("held")
            except HoldRefused:
                results.append("taken")
            db.session.remove()

    threads = [threading.Thread(target=choose, args=(f"browser-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["held", "taken"]
    assert db.session.scalar(sa.select(sa.func.count(SlotClaim.id))) == 1


@BOTH_DATABASES
def test_two_web_processes_each_see_a_change_on_their_next_request(
    app, database_url, client, consultant, booking_form
):
    """Each process keeps its own cache of free times (on its app object); a booking made in
    one is not offered by the other on the very next request, nor is a held time."""
    other = make_app(database_url)
    browser_b = other.test_client()
    first_day = slots(app)[0][:10]

    def offered_by_b(slot: str) -> bool:
        day = datetime.fromisoformat(slot).astimezone(ZoneInfo("Asia/Kolkata")).date()
        page = browser_b.get(f"/book?tz=Asia/Kolkata&day={day.isoformat()}")
        return slot in offered_times(page.get_data(as_text=True))

    booked, held = slots(app)[2], slots(app)[3]
    assert first_day and offered_by_b(booked) and offered_by_b(held)  # B's cache is warm
    assert client.post("/book", data=booking_form(slot=booked)).status_code == 302
    assert not offered_by_b(booked)
    choose(app.test_client(), held)
    assert not offered_by_b(held)
    appointment = db.session.scalar(sa.select(Appointment))
    cancel_appointment(db.session, appointment, now_utc(), Actor.patient())
    db.session.commit()
    assert offered_by_b(booked)  # free again
    with other.app_context():
        db.session.remove()
        db.engine.dispose()
