"""The patient's rights over their data: the privacy notice, versioned consent, download,
deletion (by the patient, by staff, from the command line), withdrawal and retention."""

import json
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.core.audit import Actor
from booking.core.models import Appointment, AuditEvent, Reminder
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from booking.messages.reminders import queue_due_reminders
from booking.privacy.erasure import erase
from booking.privacy.notice import NOTICE_VERSION
from booking.privacy.retention import apply_retention
from tests.apps import make_app
from tests.clock import monday_ahead
from tests.databases import BOTH_DATABASES
from tests.factories import VALID_ANSWERS
from tests.helpers import csrf_token, offered_times

pytestmark = BOTH_DATABASES

# What the patient typed that must never outlive an erasure, in any table.
CANARIES = [
    "Zeraphine Quillborough",  # the patient's name
    "zeraphine.q@example.com",
    "Lesion on the left shoulder",
    "Pembrolizumab since March",
    "City Cancer Hospital",
    "Star Health",
    "Medi Assist",
    "Ravi Verma",
    "Can I keep working",
    "Metformin 500 mg twice daily",  # a questionnaire answer
    "9876543210",
]


@pytest.fixture
def booked(client, consultant, booking_form, smtp):
    """A booking through the form, its confirmation sent, and the manage token from it; with
    a questionnaire saved part-way."""
    form = booking_form(slot_index=250, patient_name=CANARIES[0], patient_email=CANARIES[1])
    assert client.post("/book", data=form).status_code == 302
    dispatch_outbox(db.session)
    text = smtp.messages[-1].get_body(("plain",)).get_content()
    for message in smtp.messages:
        if "is booked" in message["Subject"]:
            text = message.get_body(("plain",)).get_content()
    token = re.search(r"/manage/([\w-]+)", text)[1]
    link = f"/manage/{token}/questionnaire"
    page = client.get(link).get_data(as_text=True)
    saved = client.post(
        link,
        data={
            "csrf_token": csrf_token(page),
            "action": "save",
            "medicines": CANARIES[9],
            "distress": "2",
        },
    )
    assert saved.status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    return appointment, token


def every_stored_value() -> str:
    """Every value of every row of every table, as text: what a raw database dump shows."""
    dumped = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(sa.select(table)).all():
            dumped.append(" ".join(str(value) for value in row))
    return "\n".join(dumped)


def test_the_privacy_notice_is_linked_beside_each_consent_and_its_version_is_stored(
    client, consultant, booking_form, app
):
    app.config["GRIEVANCE_CONTACT"] = "Ms Kavya Rao, privacy@clinic.example"
    notice = client.get("/privacy").get_data(as_text=True)
    for words in (
        "What we collect",
        "Who sees it",
        f"{app.config['RETENTION_DAYS']} days after the consult",
        "Ms Kavya Rao, privacy@clinic.example",
        NOTICE_VERSION,
        "Data Protection Board",
    ):
        assert words in notice
    book_page = client.get("/book").get_data(as_text=True)
    assert 'href="/privacy"' in book_page  # the footer, on every page
    assert client.post("/book", data=booking_form(consent_reminders=None)).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.consent_health_version == NOTICE_VERSION
    assert appointment.consent_reminders_version is None  # not given


def test_the_details_form_links_the_notice_next_to_both_consents(client, consultant, booking_form):
    shown_again = client.post("/book", data=booking_form(consent_health=None))
    page = shown_again.get_data(as_text=True)
    assert shown_again.status_code == 422
    consents = page[page.index('id="s-consent"') : page.index("</form>")]
    assert consents.count('href="/privacy"') == 2  # one beside each box


def test_the_patient_sees_and_downloads_everything_stored(client, booked):
    appointment, token = booked
    page = client.get(f"/manage/{token}").get_data(as_text=True)
    assert f"/manage/{token}/data" in page and f"/manage/{token}/delete" in page

    readable = client.get(f"/manage/{token}/data")
    assert readable.status_code == 200
    assert readable.headers["Cache-Control"] == "no-store"
    text = readable.get_data(as_text=True)
    for canary in CANARIES[:10]:
        assert canary in text, canary
    # Times as the patient reads them everywhere else, in their own zone.
    assert re.search(r"\w{3} \d{1,2} \w{3} 20\d\d, \d\d:\d\d IST", text) and "UTC" not in text

    # An answer the form no longer asks, kept from a booking made before: it is theirs too.
    appointment.intake.policy_number = "POL-OLD-4711"
    db.session.commit()
    download = client.get(f"/manage/{token}/data.json")
    assert download.mimetype == "application/json"
    assert "attachment" in download.headers["Content-Disposition"]
    data = json.loads(download.get_data(as_text=True))
    answers = dict(data["booking_form_answers"])
    assert answers["Policy number"] == "POL-OLD-4711"
    assert "Lesion on the left shoulder" in " ".join(str(value) for value in answers.values())
    assert answers["Type of cancer"].startswith("Melanoma")  # in words, not the code
    assert any(CANARIES[9] in words for _, words in data["questionnaire_answers"])
    kinds = {email["kind"] for email in data["emails_sent"]}
    assert "Confirmation" in kinds
    assert not any("Questions to ask" in json.dumps(email) for email in data["emails_sent"])
    whats = [event["what"] for event in data["what_was_done"]]
    assert "booked online" in whats
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.appointment_id == appointment.id)
    ).all()
    assert "data_viewed" in actions and "data_exported" in actions


def test_delete_my_data_erases_every_trace_and_keeps_the_skeleton(client, booked, smtp):
    appointment, token = booked
    reference, starts_at = appointment.reference, appointment.starts_at
    step = client.get(f"/manage/{token}/delete")
    page = step.get_data(as_text=True)
    assert step.status_code == 200 and "will be cancelled" in page
    # Without the form's token nothing happens.
    assert client.post(f"/manage/{token}/delete", data={"x": "1"}).status_code == 422
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).erased_at is None

    smtp.messages.clear()
    done = client.post(f"/manage/{token}/delete", data={"csrf_token": csrf_token(page)})
    assert done.status_code == 303
    assert "Your data is deleted" in client.get(done.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()

    dump = every_stored_value()
    for canary in CANARIES:
        assert canary not in dump, canary
    row = db.session.execute(
        sa.text(
            "SELECT reference, starts_at, status, erased_at, cancel_reason, patient_email,"
            " booker_email, video_link FROM appointment"
        )
    ).one()
    assert row.reference == reference and row.status == "cancelled" and row.erased_at
    assert (row.cancel_reason, row.patient_email, row.booker_email) == (None, "", None)
    for table in ("intake", "questionnaire", "appointment_note"):
        assert db.session.scalar(sa.text(f"SELECT count(*) FROM {table}")) == 0, table
    bodies = db.session.execute(
        sa.text(
            "SELECT status, kind, body_text, body_html, ics FROM outbound_email"
            " WHERE kind NOT LIKE 'staff_%'"
        )
    ).all()
    assert bodies and all(b.body_text is None and b.body_html is None for b in bodies)
    assert all(b.ics is None for b in bodies)
    assert "pending" not in {b.status for b in bodies}  # the reminders are withdrawn
    assert set(db.session.scalars(sa.select(Reminder.status))) <= {"cancelled", "skipped"}
    assert db.session.get(Appointment, appointment.id).starts_at == starts_at

    # Staff hear of it, without anything about the patient.
    dispatch_outbox(db.session)
    notices = [m for m in smtp.messages if m["Subject"].startswith("Data deleted")]
    # The reception, and the consultant whose day it was on (the consult was still to come).
    consultant_email = db.session.get(Appointment, appointment.id).consultant.email
    assert sorted(m["To"] for m in notices) == sorted(
        ["reception@clinic.example", consultant_email]
    )
    for message in notices:
        text = message.as_string()
        for canary in CANARIES:
            assert canary not in text
    assert not [m for m in smtp.messages if m["To"] == CANARIES[1]]  # nothing to the patient

    # The link now says so; asking again changes nothing.
    gone = client.get(f"/manage/{token}")
    assert gone.status_code == 200 and "Your data is deleted" in gone.get_data(as_text=True)
    download = client.get(f"/manage/{token}/data.json")
    assert download.status_code == 200 and download.mimetype == "text/html"
    assert "Your data is deleted" in download.get_data(as_text=True)
    events = db.session.scalars(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "data_erased")
    ).all()
    assert events == ["the patient asked, with the link in their email; the consult was cancelled"]


def test_withdrawing_reminder_consent_stops_later_reminders(client, booked, smtp):
    appointment, token = booked
    page = client.get(f"/manage/{token}/withdraw").get_data(as_text=True)
    assert "Stop the reminder emails" in page
    response = client.post(
        f"/manage/{token}/withdraw", data={"csrf_token": csrf_token(page), "which": "reminders"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment.id)
    assert appointment.consent_reminders is False and appointment.consent_reminders_withdrawn_at
    assert appointment.status == "confirmed" and appointment.intake is not None
    data = json.loads(client.get(f"/manage/{token}/data.json").get_data(as_text=True))
    assert dict(data["agreements"])["Agreed to reminder emails"].startswith("No: stopped")
    assert "Already stopped" in client.get(f"/manage/{token}/withdraw").get_data(as_text=True)
    smtp.messages.clear()
    # At the consult's start every reminder would be due: none is sent.
    queue_due_reminders(db.session, appointment.starts_at - timedelta(minutes=1))
    dispatch_outbox(db.session)
    assert not [m for m in smtp.messages if "remind" in m["Subject"].lower()]
    assert not [m for m in smtp.messages if m["To"] == CANARIES[1]]


def test_withdrawing_health_consent_cancels_with_the_usual_emails_and_erases_the_answers(
    client, booked, smtp
):
    appointment, token = booked
    page = client.get(f"/manage/{token}/withdraw").get_data(as_text=True)
    smtp.messages.clear()
    response = client.post(
        f"/manage/{token}/withdraw", data={"csrf_token": csrf_token(page), "which": "health"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    appointment = db.session.get(Appointment, appointment.id)
    assert appointment.status == "cancelled" and appointment.consent_health_withdrawn_at
    assert appointment.intake is None and appointment.questionnaire is None
    assert appointment.erased_at is None and appointment.patient_email == CANARIES[1]
    dispatch_outbox(db.session)
    to_patient = [m for m in smtp.messages if m["To"] == CANARIES[1]]
    assert len(to_patient) == 1 and "cancelled" in to_patient[0]["Subject"].lower()
    text = to_patient[0].get_body(("plain",)).get_content()
    assert "filled in" not in text and "/rebook" not in text  # those answers are gone
    dump = every_stored_value()
    for canary in ("Lesion on the left shoulder", "Pembrolizumab", CANARIES[9]):
        assert canary not in dump


def test_an_admin_erases_for_a_request_by_phone_and_staff_cannot(
    client, booked, admin_client, create_staff
):
    appointment, _ = booked
    path = f"/staff/appointments/{appointment.reference}/erase"
    page = admin_client.get(path).get_data(as_text=True)
    refused = admin_client.post(path, data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 422 and "how the request came" in refused.get_data(as_text=True)
    done = admin_client.post(
        path, data={"csrf_token": csrf_token(page), "reason": "request_by_phone"}
    )
    assert done.status_code == 302
    detail = admin_client.get(f"/staff/appointments/{appointment.reference}")
    text = detail.get_data(as_text=True)
    assert detail.status_code == 200 and "personal data was deleted" in text
    assert CANARIES[0] not in text
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "data_erased"))
    assert event.detail.startswith("the patient asked by phone")
    assert event.staff_user_id == admin_client.user.id
    # Nothing else can be done to it.
    note = admin_client.post(
        f"/staff/appointments/{appointment.reference}/notes",
        data={"csrf_token": csrf_token(text), "text": "x"},
    )
    assert note.status_code == 409
    listing = admin_client.get("/staff/appointments?date_from=").get_data(as_text=True)
    assert appointment.reference in listing and "data deleted" in listing


def test_the_erase_command(app, booked):
    appointment, _ = booked
    runner = app.test_cli_runner()
    result = runner.invoke(args=["erase", "--reference", appointment.reference.lower(), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Erased" in result.output
    again = runner.invoke(args=["erase", "--reference", appointment.reference, "--yes"])
    assert "already erased" in again.output
    missing = runner.invoke(args=["erase", "--reference", "CT-NOPE00", "--yes"])
    assert missing.exit_code != 0
    assert CANARIES[0] not in every_stored_value()


def test_retention_erases_exactly_what_is_past_the_limit_once(app, consultant, book_at):
    start = monday_ahead(1).replace(hour=4, minute=30)
    booked_at = start - timedelta(days=2)
    old = book_at(start, booked_at, 0, patient_name="Old Patient")
    recent = book_at(start + timedelta(minutes=30), booked_at, 1, patient_name="Recent Patient")
    cancelled = book_at(start + timedelta(hours=1), booked_at, 2, patient_name="Gone Patient")
    db.session.execute(
        sa.update(Appointment)
        .where(Appointment.id == cancelled.appointment_id)
        .values(status="cancelled", cancelled_at=booked_at)
    )
    db.session.commit()
    days = app.config["RETENTION_DAYS"]
    # The day after the limit for the first consult (and the cancellation), not the second.
    now = start + timedelta(minutes=30) + timedelta(days=days, seconds=1)
    assert apply_retention(db.session, now).erased == 2
    db.session.expire_all()
    names = dict(db.session.execute(sa.select(Appointment.id, Appointment.patient_name)).all())
    assert names[old.appointment_id] == "" and names[cancelled.appointment_id] == ""
    assert names[recent.appointment_id] == "Recent Patient"
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "data_erased")
    ).all()
    assert {(e.actor, e.detail) for e in events} == {("system", "the retention period ended")}
    assert len(events) == 2
    # Run again: nothing more.
    assert apply_retention(db.session, now).erased == 0


def test_two_workers_erase_each_booking_once(app, consultant, book_at, database_url):
    start = monday_ahead(1).replace(hour=4, minute=30)
    for index in range(12):
        book_at(start + timedelta(minutes=30 * index), start - timedelta(days=2), index)
    now = start + timedelta(days=app.config["RETENTION_DAYS"] + 1)
    other = make_app(database_url)
    results = []

    def run(flask_app):
        with flask_app.app_context():
            results.append(apply_retention(db.session, now).erased)
            db.session.remove()

    threads = [threading.Thread(target=run, args=(a,)) for a in (app, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with other.app_context():
        db.engine.dispose()
    assert sum(results) == 12
    erased = db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "data_erased"))
    assert erased == 12


def test_audit_events_are_kept_longer_and_then_removed(app, consultant, book_at):
    start = monday_ahead(1).replace(hour=4, minute=30)
    book_at(start, start - timedelta(days=2))
    audit_days = app.config["AUDIT_RETENTION_DAYS"]
    assert audit_days >= 7 * 365
    kept = apply_retention(db.session, start + timedelta(days=audit_days - 10))
    assert kept.audit_events_removed == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 0
    gone = apply_retention(db.session, now_utc() + timedelta(days=audit_days + 30))
    assert gone.audit_events_removed > 0
    remaining = db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action != "data_erased")
    )
    assert remaining == 0


def test_an_unwritten_confirmation_of_an_erased_booking_is_never_sent(
    client, consultant, booking_form, smtp
):
    assert client.post("/book", data=booking_form(slot_index=250)).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    erase(db.session, appointment, now_utc(), Actor.system(), "operator", tell_staff=False)
    db.session.commit()
    dispatch_outbox(db.session)
    assert not [m for m in smtp.messages if m["To"] == VALID_ANSWERS["patient_email"]]


def test_choosing_a_new_time_after_the_data_went_fills_in_only_what_is_left(client, booked):
    """The cancellation email's "choose a new time" link, followed before and after the
    health answers were withdrawn, and after everything was erased."""
    appointment, token = booked
    page = client.get(f"/manage/{token}/withdraw").get_data(as_text=True)
    client.post(
        f"/manage/{token}/withdraw", data={"csrf_token": csrf_token(page), "which": "health"}
    )
    assert client.get(f"/manage/{token}/rebook").status_code == 302
    page = client.get("/book").get_data(as_text=True)
    held = client.post(
        "/book/time",
        data={"csrf_token": csrf_token(page), "slot": offered_times(page)[0], "timezone": "UTC"},
    )
    details = client.get(held.headers["Location"])
    text = details.get_data(as_text=True)
    assert details.status_code == 200 and f'value="{CANARIES[0]}"' in text
    assert "Lesion on the left shoulder" not in text
    db.session.expire_all()
    gone = db.session.get(Appointment, appointment.id)
    erase(db.session, gone, now_utc(), Actor.system(), "operator")
    db.session.commit()
    again = client.get(held.headers["Location"])  # the session still names the old booking
    assert again.status_code == 200 and CANARIES[0] not in again.get_data(as_text=True)
    rebook = client.get(f"/manage/{token}/rebook")
    assert rebook.status_code == 200 and "Your data is deleted" in rebook.get_data(as_text=True)
    assert CANARIES[0] not in rebook.get_data(as_text=True)
