"""Staff work on appointments: list, export, the appointment page, and its actions."""

import csv
import html
import io
import logging
import re
import threading
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa

from booking.appointments.bookings import SlotTaken
from booking.appointments.changes import cancel_appointment, reassign_and_commit
from booking.appointments.search import search_text_for
from booking.core.audit import Actor
from booking.core.models import Appointment, AppointmentNote, AuditEvent, Reminder
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.intake import choices
from booking.messages.outbox import dispatch_outbox
from tests.clock import clinic_slot, monday_ahead
from tests.databases import BOTH_DATABASES
from tests.factories import VALID_ANSWERS, csrf_for
from tests.helpers import csrf_token, day_links, error_for, offered_times

# The flows staff and patients use every day run on both databases.
pytestmark = BOTH_DATABASES

FREE_TEXT = [
    VALID_ANSWERS[name]
    for name in (
        "diagnosis_details",
        "treatment_details",
        "treating_hospital",
        "insurer",
        "tpa",
        "policy_holder",
        "own_questions",
    )
]


@pytest.fixture
def appointment(client, consultant, booking_form, smtp):
    assert client.post("/book", data=booking_form(slot_index=250)).status_code == 302
    dispatch_outbox(db.session)
    return db.session.scalar(sa.select(Appointment))


def audit_actions():
    return db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()


def test_appointment_page_shows_the_full_intake_and_is_audited(staff_client, appointment):
    response = staff_client.get(f"/staff/appointments/{appointment.reference}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for value in FREE_TEXT:
        assert value in page
    assert "confirmation" in page and "sent" in page  # the email history
    assert response.headers["Cache-Control"] == "no-store"
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "viewed"))
    assert event.staff_user_id == staff_client.user.id
    assert event.appointment_id == appointment.id


def test_whatsapp_link_when_it_is_the_preferred_channel(
    client, staff_client, consultant, booking_form
):
    client.post("/book", data=booking_form(preferred_channel="whatsapp"))
    reference = db.session.scalar(sa.select(Appointment.reference))
    page = staff_client.get(f"/staff/appointments/{reference}").get_data(as_text=True)
    assert 'href="https://wa.me/919876543210"' in page


def test_staff_cancel_emails_the_patient_and_stops_reminders(
    staff_client, client, appointment, smtp
):
    url = f"/staff/appointments/{appointment.reference}/cancel"
    second = staff_client.get(url).get_data(as_text=True)  # the second step: nothing yet
    assert "Yes, cancel and email the patient" in second and "No, keep the consult" in second
    token = csrf_for(staff_client, url)
    missing = staff_client.post(url, data={"csrf_token": token, "reason": "Consultant unwell"})
    assert missing.status_code == 422 and "Choose what the patient" in missing.get_data(
        as_text=True
    )
    db.session.refresh(appointment)
    assert appointment.status == "confirmed"
    response = staff_client.post(
        url,
        data={
            "csrf_token": token,
            "category": "consultant_unavailable",
            "reason": "Consultant unwell",
        },
    )
    assert response.status_code == 302
    db.session.refresh(appointment)
    assert appointment.status == "cancelled"
    assert set(db.session.scalars(sa.select(Reminder.status))) <= {"cancelled", "skipped"}
    dispatch_outbox(db.session)
    to_patient = [m for m in smtp.messages if m["To"] == appointment.patient_email]
    cancellation = next(m for m in to_patient if "cancelled" in m["Subject"])
    text = cancellation.get_body(("plain",)).get_content()
    desk = next(
        m
        for m in smtp.messages
        if m["To"] == "reception@clinic.example"
        and ("cancelled" in m.get_body(("plain",)).get_content())
    )
    assert "cancelled by Reception Desk" in desk.get_body(("plain",)).get_content()
    assert "We are sorry" in text
    assert "because the consultant is unavailable at that time" in text
    assert "Consultant unwell" not in cancellation.as_string()
    # The link to choose a new time fills in the answers given, for the patient to check.
    rebook = re.search(r"http://[^/\s]+(/manage/[\w-]+/rebook)", text)[1]
    assert client.get(rebook).status_code == 302
    page = client.get("/book").get_data(as_text=True)
    held = client.post(
        "/book/time",
        data={"csrf_token": csrf_token(page), "slot": offered_times(page)[0], "timezone": "UTC"},
    )
    details = client.get(held.headers["Location"]).get_data(as_text=True)
    assert 'value="Asha Verma"' in details and "15/08/1962" in details
    last_step = client.get("/book/details?step=5").get_data(as_text=True)
    assert html.escape(VALID_ANSWERS["own_questions"]) in last_step
    safety = client.get("/book/details?step=2").get_data(as_text=True)
    assert 'checked id="red_flags-' not in safety  # the safety check is asked again
    calendar = icalendar.Calendar.from_ical(next(cancellation.iter_attachments()).get_content())
    assert calendar["method"] == "CANCEL"
    assert audit_actions()[-1] == "cancelled"


def test_staff_move_emails_the_new_time_and_retimes_reminders(staff_client, appointment, smtp):
    move = f"/staff/appointments/{appointment.reference}/move"
    page = staff_client.get(move).get_data(as_text=True)
    assert "clinic's time zone (Asia/Kolkata)" in page and " checked" not in page
    page = staff_client.get(day_links(page)[3]).get_data(as_text=True)
    target = offered_times(page)[-1]
    chosen = {"csrf_token": csrf_for(staff_client), "slot": target, "timezone": "America/Chicago"}
    check = staff_client.post(move, data=chosen).get_data(as_text=True)
    local = datetime.fromisoformat(target).astimezone(ZoneInfo("Asia/Kolkata"))
    # Staff read the clinic's time, whatever zone a form sends.
    assert "You are moving to" in check
    assert f"{local:%A} {local.day} {local:%B}, {local:%H:%M} clinic time" in check
    db.session.refresh(appointment)
    assert appointment.starts_at.isoformat().replace("+00:00", "Z") != target
    response = staff_client.post(move, data={**chosen, "confirm": "yes"})
    assert response.status_code == 302
    db.session.refresh(appointment)
    assert appointment.starts_at.isoformat().replace("+00:00", "Z") == target
    due = set(db.session.scalars(sa.select(Reminder.due_at).where(Reminder.status == "pending")))
    assert due == {
        appointment.starts_at - timedelta(hours=24),
        appointment.starts_at - timedelta(hours=2),
    }
    dispatch_outbox(db.session)
    moved = next(m for m in smtp.messages if "has moved" in m["Subject"])
    event = icalendar.Calendar.from_ical(next(moved.iter_attachments()).get_content())
    assert event.walk("VEVENT")[0].decoded("dtstart") == appointment.starts_at
    assert audit_actions()[-1] == "moved"


def test_outcome_only_after_the_start(staff_client, appointment):
    response = staff_client.post(
        f"/staff/appointments/{appointment.reference}/status",
        data={"csrf_token": csrf_for(staff_client), "status": "no_show"},
    )
    assert response.status_code == 409
    assert "not started" in response.get_data(as_text=True)
    appointment.starts_at = now_utc() - timedelta(minutes=40)
    appointment.ends_at = appointment.starts_at + timedelta(minutes=30)
    db.session.commit()
    response = staff_client.post(
        f"/staff/appointments/{appointment.reference}/status",
        data={"csrf_token": csrf_for(staff_client), "status": "no_show"},
    )
    assert response.status_code == 302
    db.session.refresh(appointment)
    assert appointment.status == "no_show"


def test_notes_are_encrypted_with_author_and_time(staff_client, appointment):
    staff_client.post(
        f"/staff/appointments/{appointment.reference}/notes",
        data={"csrf_token": csrf_for(staff_client), "text": "Called; prefers mornings"},
    )
    note = db.session.scalar(sa.select(AppointmentNote))
    assert note.text == "Called; prefers mornings"
    assert note.author_id == staff_client.user.id
    raw = db.session.scalar(sa.text("SELECT text FROM appointment_note"))
    assert "mornings" not in raw
    page = staff_client.get(f"/staff/appointments/{appointment.reference}")
    assert "Called; prefers mornings" in page.get_data(as_text=True)


def test_reassign_to_a_free_consultant(staff_client, appointment, create_consultant):
    other = create_consultant("Dr Other")
    page = staff_client.get(f"/staff/appointments/{appointment.reference}").text
    # Nothing is chosen for staff: the first option asks.
    assert '<option selected value="">Choose a consultant</option><option value=' in page
    reassign = f"/staff/appointments/{appointment.reference}/reassign"
    unchosen = staff_client.post(reassign, data={"csrf_token": csrf_for(staff_client)})
    assert unchosen.status_code == 422
    # Said where the page opens, with a link down to the list.
    top = unchosen.text[: unchosen.text.index('id="h-summary"')]
    assert 'class="error-summary"' in top and 'href="#consultant_id"' in top
    assert error_for(unchosen.text, "consultant_id") == (
        "Choose the consultant to reassign the consult to."
    )
    chosen = {"csrf_token": csrf_for(staff_client), "consultant_id": other.id}
    check = staff_client.post(reassign, data=chosen)
    assert check.status_code == 200 and "to <strong>Dr Other</strong>" in check.text
    db.session.refresh(appointment)
    assert appointment.consultant_id != other.id  # nothing changes before the second press
    response = staff_client.post(reassign, data={**chosen, "confirm": "yes"})
    assert response.status_code == 302
    db.session.refresh(appointment)
    assert appointment.consultant_id == other.id
    assert audit_actions()[-1] == "reassigned"


def test_reassign_cannot_double_book(app, create_consultant, create_staff, book_at):
    for name in ("A", "B"):
        create_consultant(f"Dr {name}")
    target_id = create_consultant("Dr C").id
    staff_id = create_staff().id
    now = now_utc()
    start = clinic_slot(3)
    mine = book_at(start, now, index=1).appointment
    theirs = book_at(start, now, index=2).appointment
    # C is left free by the booking spread; reassigning to B or A (busy then) is refused.
    with pytest.raises(SlotTaken):
        reassign_and_commit(db.session, mine, theirs.consultant_id, now, Actor.staff(staff_id))
    # Two staff reassign two consults to the same free consultant at once: only one wins.
    db.session.remove()
    ids = [mine.id, theirs.id]
    results = []

    def reassign(appointment_id):
        with app.app_context():
            record = db.session.get(Appointment, appointment_id)
            try:
                reassign_and_commit(db.session, record, target_id, now, Actor.staff(staff_id))
                results.append("ok")
            except SlotTaken:
                results.append("taken")
            db.session.remove()

    threads = [threading.Thread(target=reassign, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == ["ok", "taken"]
    holders = db.session.scalars(
        sa.select(Appointment.consultant_id).where(Appointment.starts_at == start)
    ).all()
    assert len(holders) == len(set(holders)) == 2


def test_list_filters_and_search(staff_client, client, consultant, booking_form):
    client.post(
        "/book",
        data=booking_form(
            slot_index=10,
            patient_name="Ravi Kumar",
            cancer_type="lymphoma",
            payment_routes=["pmjay"],
        ),
    )
    client.post(
        "/book", data=booking_form(slot_index=11, patient_name="Meera Shah", red_flags=["fever"])
    )

    def listed(**args):
        page = staff_client.get("/staff/appointments", query_string=args).get_data(as_text=True)
        return set(re.findall(r">(CT-[A-Z0-9]{6})<", page))

    everyone = listed()
    assert len(everyone) == 2
    assert len(listed(cancer_type="lymphoma")) == 1
    assert len(listed(has_insurance="no")) == 1
    assert len(listed(urgent="yes")) == 1
    assert len(listed(q="meera")) == 1
    assert len(listed(q="9876543210")) == 2
    assert len(listed(status="cancelled")) == 0
    assert len(listed(date_from="not-a-date")) == 2  # a bad filter is reported, not a 500
    reference = next(iter(listed(q="ravi")))
    assert listed(q=reference.lower()) == {reference}


def test_filter_bar_reads_dates_consultants_and_pages_from_the_link(
    staff_client, client, create_consultant, book_at
):
    first, second = create_consultant("Dr One"), create_consultant("Dr Two")
    start = monday_ahead()
    early = book_at(start + timedelta(days=1, hours=6), start).appointment
    late = book_at(start + timedelta(days=9, hours=6), start, index=1).appointment
    early.consultant_id, late.consultant_id = first.id, second.id
    db.session.commit()
    early, late = early.reference, late.reference

    def listed(**args):
        response = staff_client.get("/staff/appointments", query_string=args)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    plain = listed()  # the list as first opened: every filter "any", no error shown
    assert early in plain and late in plain and 'class="error"' not in plain
    day = (start + timedelta(days=1)).date().isoformat()
    only_early = listed(date_from=day, date_to=day)
    assert early in only_early and late not in only_early
    by_consultant = listed(consultant_id=str(second.id))
    assert late in by_consultant and early not in by_consultant
    for bad in ("0001-01-01", "9999-12-31"):
        page = listed(date_from=bad)
        assert "Use a date between 2000 and 2100." in page  # next to the field, not a 500
        assert early in page and late in page
    assert "Not a valid choice" in listed(consultant_id="99999999999999999999")
    listed(page="99999999999999999999")  # far past the end: an empty page, not a 500

    cancel_appointment(
        db.session,
        db.session.scalar(sa.select(Appointment).filter_by(reference=late)),
        start,
        Actor.staff(staff_client.user.id),
        reason="test",
    )
    db.session.commit()
    confirmed = listed(status="confirmed")
    assert early in confirmed and late not in confirmed
    cancelled = listed(status="cancelled")
    assert late in cancelled and early not in cancelled


def test_csv_export_is_the_filtered_list_without_free_text(
    staff_client, client, consultant, booking_form
):
    client.post("/book", data=booking_form(slot_index=10, patient_name="=HYPERLINK(1)"))
    client.post("/book", data=booking_form(slot_index=11, cancer_type="lymphoma"))
    response = staff_client.get("/staff/appointments/export.csv?cancer_type=melanoma")
    text = response.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    # In the words staff see, the phone kept as text for spreadsheets.
    assert len(rows) == 1 and rows[0]["Cancer type"] == "Melanoma (skin cancer)"
    assert rows[0]["How"] == "Phone call" and rows[0]["Health questionnaire"] == "not yet"
    assert rows[0]["Patient"] == "'=HYPERLINK(1)"
    assert rows[0]["Phone"] == '="+919876543210"'
    for value in FREE_TEXT:
        assert value not in text
    codes = staff_client.get("/staff/appointments/export-codes.csv?cancer_type=melanoma")
    [coded] = list(csv.DictReader(io.StringIO(codes.get_data(as_text=True))))
    assert coded["cancer_type"] == "melanoma" and coded["consult_mode"] == "phone"
    treatments = VALID_ANSWERS["treatments"]
    assert coded["treatments"] == ",".join(treatments)
    assert rows[0]["Current treatment"] == "; ".join(
        choices.label(choices.TREATMENTS, code) for code in treatments
    )
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "exported"))
    assert event.staff_user_id == staff_client.user.id and event.detail.startswith("1 rows")


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_export_never_starts_a_cell_with_a_formula(staff_client, appointment, lead):
    """Whatever a name starts with that a spreadsheet would run (stored here as a staff
    correction could store it), the cell starts with a quote instead."""
    name = f"{lead}cmd|' /C calc'!A0"
    appointment.patient_name = name
    db.session.commit()
    text = staff_client.get("/staff/appointments/export.csv?date_from=").get_data(as_text=True)
    [row] = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row["Patient"] == "'" + name


def test_list_views_that_show_names_beside_health_categories_are_audited(staff_client, appointment):
    def listed(**args):
        before = len(audit_actions())
        assert staff_client.get("/staff/appointments", query_string=args).status_code == 200
        return audit_actions()[before:]

    assert listed(date_from="") == []  # the plain list: names, times, no health category
    assert listed(cancer_type="melanoma") == ["list_viewed"]
    assert listed(q="Asha Verma") == ["list_viewed"]
    details = db.session.scalars(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "list_viewed")
    ).all()
    assert "cancer_type=melanoma" in details[0]
    assert "q=(search)" in details[1] and "Asha" not in details[1]  # not what was typed


def test_every_view_and_change_is_audited_once_without_health_data(
    staff_client, appointment, caplog
):
    caplog.set_level(logging.DEBUG)
    reference = appointment.reference
    token = csrf_for(staff_client)
    steps = [
        ("viewed", lambda: staff_client.get(f"/staff/appointments/{reference}")),
        ("exported", lambda: staff_client.get("/staff/appointments/export.csv")),
        (
            "note_added",
            lambda: staff_client.post(
                f"/staff/appointments/{reference}/notes",
                data={"csrf_token": token, "text": "Private staff note"},
            ),
        ),
        (
            "cancelled",
            lambda: staff_client.post(
                f"/staff/appointments/{reference}/cancel",
                data={"csrf_token": token, "category": "patient_request", "reason": "Phoned"},
            ),
        ),
    ]
    for action, step in steps:
        before = len(audit_actions())
        step()
        assert audit_actions()[before:] == [action]
        event = db.session.scalar(sa.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        assert event.staff_user_id == staff_client.user.id
    rows = db.session.execute(sa.text("SELECT * FROM audit_event")).all()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for value in [*FREE_TEXT, "Private staff note", "Patient phoned"]:
        assert value not in str(rows)
        assert value not in logged


@pytest.mark.load
def test_list_queries_do_not_grow_with_page_size(app, staff_client, create_consultant):
    """100,000 appointments: a page costs the same few queries at 25 or 100 rows."""
    consultant = create_consultant("Dr Busy")
    start = now_utc().replace(second=0, microsecond=0)
    appointments = [
        {
            "reference": f"CT-{i:06d}",
            "consultant_id": consultant.id,
            "starts_at": start + timedelta(minutes=30 * i),
            "ends_at": start + timedelta(minutes=30 * i + 30),
            "status": "confirmed",
            "urgent": i % 50 == 0,
            "consult_mode": "phone",
            "patient_name": f"Patient {i}",
            "patient_email": f"p{i}@example.com",
            "patient_phone": "+919876543210",
            "preferred_channel": "email",
            "patient_timezone": "Asia/Kolkata",
            "booked_by": "self",
            "consent_health_at": start,
            "consent_reminders": False,
            "version": 0,
            "submission_key": f"bulk-{i}",
            "created_at": start,
        }
        for i in range(100_000)
    ]
    # One caller to find among them: a caregiver booking, an accented name, a distinct phone.
    appointments[77_777].update(
        patient_name="José Fernandes",
        patient_email="jose.fernandes@example.org",
        patient_phone="+919845012377",
        booked_by="caregiver",
        booker_name="Maria D'Costa",
        booker_phone="+919845099911",
    )
    for row in appointments:
        contact = {"booker_name": None, "booker_email": None, "booker_phone": None, **row}
        row["search_text"] = search_text_for(SimpleNamespace(**contact))
    db.session.execute(sa.insert(Appointment), appointments)
    db.session.execute(
        sa.text(
            "INSERT INTO intake (appointment_id, cancer_type, stage, diagnosed, treatments,"
            " has_insurance) SELECT id, 'melanoma', '2', 'lt3m', 'none', 'no' FROM appointment"
        )
    )
    db.session.commit()

    def statements_for(url):
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            response = staff_client.get(url)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        assert response.status_code == 200
        return seen

    small = statements_for("/staff/appointments?per_page=25&urgent=yes&page=3")
    large = statements_for("/staff/appointments?per_page=100&urgent=yes&page=3")
    assert len(small) == len(large) <= 6, large

    # A caller found from what they say, with the same number of queries.
    target = appointments[77_777]["reference"]
    for said in (
        "2377",
        "9911",
        "fernandes@exam",
        "maria",
        "d'costa",
        "jose",
        "JOSÉ",
        "fernandes josé",
        target,
        target.replace("-", ""),
    ):
        url = f"/staff/appointments?date_from=&q={said}"
        assert len(statements_for(url)) <= len(small), said  # no more queries than a page
        found = staff_client.get(url).get_data(as_text=True)
        assert target in found and found.count(">CT-") == 1, said
    nobody = staff_client.get("/staff/appointments?date_from=&q=123").get_data(as_text=True)
    assert "No appointments match." in nobody  # three digits: too few to search by
    page = staff_client.get("/staff/appointments?per_page=100").get_data(as_text=True)
    assert page.count(">CT-") == 100
    # Matches are counted up to 500, so the count does not grow with the table; staff still
    # page on, and a narrow search is counted exactly.
    assert "More than 500 appointments" in page and ">Next<" in page
    deep = staff_client.get("/staff/appointments?per_page=100&page=900").get_data(as_text=True)
    assert deep.count(">CT-") == 100 and "Page 900<" in deep
    one = staff_client.get("/staff/appointments?q=CT-099999").get_data(as_text=True)
    assert "1 appointment." in one and ">Next<" not in one
