"""The urgent safety loop: what a patient is told before and after booking, the staff call-back
list, and the escalation emails when nobody calls (controlled clock, real SMTP server)."""

import html
import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.appointments.changes import cancel_appointment, move_and_commit
from booking.core.audit import Actor
from booking.core.models import Appointment, AuditEvent, Intake, OutboundEmail, UrgentCase
from booking.extensions import db
from booking.intake import choices
from booking.intake.safety import guidance_for, is_urgent
from booking.intake.urgent_call_backs import escalate_waiting, record_call_back
from booking.messages.outbox import dispatch_outbox
from booking.messages.reminders import queue_due_reminders
from tests.clock import monday_ahead
from tests.databases import BOTH_DATABASES
from tests.factories import VALID_ANSWERS, csrf_for
from tests.helpers import csrf_token

ESCALATION = "reception-lead@clinic.example"


@pytest.fixture
def escalation(app):
    app.config["URGENT_ESCALATION_EMAILS"] = [ESCALATION]
    app.config["URGENT_ACK_MINUTES"] = 60


def escalations_written() -> int:
    return db.session.scalar(
        sa.select(sa.func.count(OutboundEmail.id)).where(OutboundEmail.kind == "urgent_escalation")
    )


def text_and_html(message) -> tuple[str, str]:
    return (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    )


def test_booking_page_names_the_numbers_before_anything_is_filled_in(client, consultant):
    first = client.get("/book").get_data(as_text=True)
    assert first.index("Need help right now?") < first.index('<form method="post"')
    slot = re.search(r'name="slot" id="slot-0" value="([^"]+)"', first)[1]
    client.post("/book/time", data={"csrf_token": csrf_token(first), "slot": slot})
    page = client.get("/book/details").get_data(as_text=True)
    help_box = page.index("Need help right now? This form is not for emergencies")
    assert help_box < page.index('<form method="post"')
    box = page[help_box : page.index("</aside>", help_box)]
    for number in ("112", "108"):
        assert f'href="tel:{number}"' in box
    assert "nearest hospital emergency (casualty)" in box
    assert "Outside India" in box
    assert 'href="tel:14416"' in box and "free, 24 hours" in box
    assert "(Mon-Sat 09:00-18:00)" in page  # the header's phone line says when it is answered
    footer = page[page.index('<footer class="site-footer">') :]
    assert 'href="tel:112"' in footer and 'href="tel:108"' in footer and "14416" in footer
    # The checklist is the step right after who is booking and how to reach the patient.
    assert 'id="patient_name"' in page and 'id="red_flags"' not in page
    safety = client.get("/book/details?step=2").get_data(as_text=True)
    assert "Step 2 of 5" in safety and "Need help right now?" in safety
    assert (
        'legend data-self="Right now, or in the last 24 hours, do you have any of these?"' in safety
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["none", "chest_pain"], "cannot be ticked together with a symptom"),
        (None, "Tick any that apply, or 'None of these'"),
    ],
)
def test_checklist_needs_one_answer_and_keeps_the_others(
    client, consultant, booking_form, flags, message
):
    data = booking_form(red_flags=flags, booked_by="caregiver", booker_name="Ravi Verma")
    data["booker_relationship"] = "son"
    response = client.post("/book", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    error = re.search(r'id="red_flags-error">(.*?)</p>', page, re.S)[1]
    assert message in html.unescape(error)
    for name in ("patient_name", "patient_email", "insurer", "own_questions"):
        assert html.escape(VALID_ANSWERS[name]) in page, name
    assert 'value="Ravi Verma"' in page
    # A caregiver is asked about the patient.
    assert (
        ">Right now, or in the last 24 hours, does the patient have any of these?</legend>" in page
    )
    if flags:
        # What was ticked stays ticked, and its guidance is shown without waiting for script.
        assert re.search(r'<input checked[^>]*value="chest_pain"', page)
        emergency = re.search(r'<div class="guidance guidance-emergency"[^>]*>', page)[0]
        assert "hidden" not in emergency
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0


def test_red_flags_are_stored_encrypted_and_the_confirmation_says_what_to_do(
    app, client, consultant, booking_form
):
    response = client.post("/book", data=booking_form(red_flags=["chest_pain", "self_harm"]))
    assert response.status_code == 302
    page = client.get("/book/confirmed").get_data(as_text=True)
    top = page[: page.index("<h1>Your consult is booked</h1>")]
    assert "These symptoms should not wait for the consult" in top
    assert "Call 112 or 108 now, or go to the nearest hospital emergency (casualty)." in top
    assert 'href="tel:14416"' in top  # self-harm: the crisis line
    assert "Our team will also call you on +91 98765 43210 during clinic hours" in top
    assert "(Mon-Sat 09:00-18:00)" in top

    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.urgent is True
    assert appointment.intake.red_flag_list == ["chest_pain", "self_harm"]
    raw = db.session.execute(sa.text("SELECT red_flags FROM intake")).scalar()
    assert "chest_pain" not in raw  # encrypted at rest
    assert appointment.urgent_case.closed_at is None


def test_none_of_these_is_stored_and_opens_no_call_back(client, consultant, booking_form):
    client.post("/book", data=booking_form())
    intake = db.session.scalar(sa.select(Intake))
    assert intake.red_flag_list == ["none"]
    assert intake.appointment.urgent is False
    assert db.session.scalar(sa.select(sa.func.count(UrgentCase.id))) == 0
    page = client.get("/book/confirmed").get_data(as_text=True)
    assert "should not wait" not in page
    assert "Need help right now?" in page  # the standing box, for everyone


def waiting_list(staff_client) -> str:
    page = staff_client.get("/staff/").get_data(as_text=True)
    return page[page.index('id="h-waiting"') : page.index("</section>")]


@BOTH_DATABASES
def test_urgent_booking_waits_on_the_staff_home_page_until_someone_reaches_them(
    app, staff_client, consultant, book_at
):
    now = monday_ahead(weeks=0)
    far = book_at(now + timedelta(days=20), now, urgent=True, red_flags=["fever"]).appointment
    book_at(now + timedelta(days=21), now, index=1, red_flags=["none"])
    reference = far.reference
    assert reference in waiting_list(staff_client)  # although the consult is 20 days away
    assert "Cancer team now" in waiting_list(staff_client)

    detail = staff_client.get(f"/staff/appointments/{reference}").get_data(as_text=True)
    assert "A temperature of 38 °C (100.4 °F) or more, or shivery, clammy" in detail

    token = csrf_for(staff_client)
    path = f"/staff/appointments/{reference}/call-back"
    tried = staff_client.post(
        path, data={"csrf_token": token, "outcome": "no_answer", "note": "Voicemail"}
    )
    assert tried.status_code == 302
    assert reference in waiting_list(staff_client)  # could not reach: still waiting

    refused = staff_client.post(path, data={"csrf_token": token, "note": "Advised"})
    assert refused.status_code == 422
    assert "Choose how the call went." in refused.get_data(as_text=True)

    reached = staff_client.post(
        path,
        data={"csrf_token": token, "outcome": "reached", "note": "Advised to go to casualty"},
    )
    assert reached.status_code == 302
    assert reference not in waiting_list(staff_client)
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "called_back").order_by(AuditEvent.id)
    ).all()
    assert [(e.staff_user_id, e.detail) for e in events] == [
        (staff_client.user.id, "Could not reach, try again"),
        (staff_client.user.id, "Reached and advised"),
    ]
    case = db.session.scalar(sa.select(UrgentCase))
    db.session.refresh(case)
    assert case.closed_by_id == staff_client.user.id
    assert [call.note for call in case.calls] == ["Voicemail", "Advised to go to casualty"]
    raw = db.session.execute(sa.text("SELECT note FROM call_back")).scalars().all()
    assert not any("casualty" in note for note in raw)
    again = staff_client.post(path, data={"csrf_token": token, "outcome": "reached"})
    assert again.status_code == 409  # nothing left to acknowledge


def test_no_call_back_for_61_minutes_sends_one_escalation_without_health_data(
    app, consultant, book_at, escalation, smtp
):
    booked = monday_ahead()
    appointment = book_at(
        booked + timedelta(days=3),
        booked,
        urgent=True,
        red_flags=["chest_pain"],
        cancer_type="melanoma",
        diagnosis_details="Lesion on the left shoulder",
    ).appointment
    assert escalate_waiting(db.session, booked + timedelta(minutes=59)) == 0
    assert escalate_waiting(db.session, booked + timedelta(minutes=61)) == 1
    assert escalate_waiting(db.session, booked + timedelta(minutes=62)) == 0
    assert escalations_written() == 1
    # Written when it is sent, so the wait it states is the wait by then.
    dispatch_outbox(db.session, booked + timedelta(minutes=63))
    [message] = [m for m in smtp.messages if m["To"] == ESCALATION]
    assert message["Subject"] == f"Urgent call-back waiting 1 h 03 min: {appointment.reference}"
    for part in (*text_and_html(message), message["Subject"]):
        assert appointment.reference in part
        for private in ("Chest pain", "chest", "elanoma", "Lesion", "Asha", "98765"):
            assert private not in part, private
    # Still waiting a period later: one more.
    assert escalate_waiting(db.session, booked + timedelta(minutes=122)) == 1
    assert escalations_written() == 2


def test_a_call_back_before_the_deadline_sends_no_escalation(app, consultant, book_at, escalation):
    booked = monday_ahead()
    reached = book_at(booked + timedelta(days=3), booked, urgent=True).appointment
    unanswered = book_at(booked + timedelta(days=4), booked, index=1, urgent=True).appointment
    staff_id = reached.consultant_id
    record_call_back(
        db.session, reached, "reached", None, booked + timedelta(minutes=30), Actor.staff(staff_id)
    )
    record_call_back(
        db.session,
        unanswered,
        "no_answer",
        None,
        booked + timedelta(minutes=30),
        Actor.staff(staff_id),
    )
    db.session.commit()
    assert escalate_waiting(db.session, booked + timedelta(minutes=61)) == 0
    # "Could not reach" gave the desk one more period from the attempt, not a closed case.
    assert escalate_waiting(db.session, booked + timedelta(minutes=91)) == 1
    [row] = db.session.scalars(
        sa.select(OutboundEmail).where(OutboundEmail.kind == "urgent_escalation")
    ).all()
    assert row.appointment_id == unanswered.id


@BOTH_DATABASES
def test_two_workers_never_send_the_same_escalation_twice(app, create_consultant, book_at):
    app.config["URGENT_ESCALATION_EMAILS"] = [ESCALATION]
    consultants = [create_consultant(f"Dr {index}") for index in range(3)]
    booked = monday_ahead()
    for index in range(30):
        starts_at = booked + timedelta(days=2, minutes=30 * (index // len(consultants)))
        book_at(starts_at, booked, index=index, urgent=True)
    assert db.session.scalar(sa.select(sa.func.count(UrgentCase.id))) == 30
    db.session.remove()
    due = booked + timedelta(minutes=61)
    barrier = threading.Barrier(2)
    claimed = []

    def worker():
        with app.app_context():
            barrier.wait()
            while count := escalate_waiting(db.session, due, limit=4):
                claimed.append(count)
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sum(claimed) == 30
    assert escalations_written() == 30
    recipients = db.session.execute(
        sa.select(OutboundEmail.appointment_id).where(OutboundEmail.kind == "urgent_escalation")
    ).scalars()
    assert len(set(recipients)) == 30
    assert set(db.session.scalars(sa.select(UrgentCase.escalations))) == {1}


PATIENT_KINDS = {"confirmation", "reminder", "moved", "cancelled"}  # and nothing else yet


@pytest.mark.parametrize("urgent", [False, True])
def test_every_patient_email_says_when_to_get_help(app, consultant, book_at, smtp, urgent):
    booked = monday_ahead()
    starts_at = booked + timedelta(days=3)
    flags = ["fever"] if urgent else ["none"]
    result = book_at(starts_at, booked, urgent=urgent, red_flags=flags)
    queue_due_reminders(db.session, starts_at - timedelta(hours=23))
    dispatch_outbox(db.session, starts_at - timedelta(hours=23))  # before the cancel withdraws it
    appointment = db.session.get(Appointment, result.appointment.id)
    move_and_commit(
        db.session, appointment, starts_at + timedelta(days=1), booked, actor=Actor.patient()
    )
    cancel_appointment(db.session, appointment, booked, Actor.patient())
    db.session.commit()
    dispatch_outbox(db.session, starts_at)

    patient = [m for m in smtp.messages if m["To"] == "patient0@example.com"]
    assert len(patient) == len(PATIENT_KINDS), [m["Subject"] for m in patient]
    for message in patient:
        for part in text_and_html(message):
            assert "When to get help" in part, message["Subject"]
            for needed in ("112", "108", "14416", "casualty", "Mon-Sat 09:00-18:00"):
                assert needed in part, (message["Subject"], needed)
            assert "Chest pain" in part and "38 °C (100.4 °F)" in part
            first_time = "is booked" in message["Subject"]
            assert ("These symptoms should not wait" in part) == (urgent and first_time)
            calls = "Our team will also call you on +91 98765 43210 during clinic hours"
            assert (calls in part) == (urgent and first_time)
            still = "If you still have any of the symptoms you told us about, get help today"
            assert (still in part) == (urgent and not first_time)
            assert "please get help now" not in part.lower()


def test_the_call_back_list_puts_those_needing_help_now_first(
    staff_client, create_consultant, book_at
):
    create_consultant("Dr Second")
    now = monday_ahead(weeks=0)
    fever = book_at(now + timedelta(days=5), now, urgent=True, red_flags=["fever"])
    later = now + timedelta(minutes=5)
    chest = book_at(now + timedelta(days=6), later, index=1, urgent=True, red_flags=["chest_pain"])
    mood = book_at(now + timedelta(days=7), now, index=2, urgent=True, red_flags=["self_harm"])
    legacy = book_at(now + timedelta(days=8), now, index=3, urgent=True)  # before the checklist
    listed = waiting_list(staff_client)
    assert listed.index(chest.appointment.reference) < listed.index(fever.appointment.reference)
    assert "Needs help now" in listed and "Cancer team now" in listed
    assert "Self-harm thoughts" in listed
    assert "Urgent (answered before the checklist)" in listed
    assert mood.appointment.reference in listed and legacy.appointment.reference in listed

    db.session.execute(sa.update(UrgentCase).values(escalations=2))
    db.session.commit()
    page = staff_client.get(f"/staff/appointments/{fever.appointment.reference}")
    assert "escalated 2 times" in page.get_data(as_text=True)


def test_a_cancelled_consult_keeps_its_call_back_waiting_and_escalating(
    app, staff_client, consultant, book_at, escalation
):
    """The call is about the symptoms, not the consult: cancelling the consult (here by the
    patient, the same day they booked) leaves the case on the list, and unanswered it still
    escalates."""
    booked = monday_ahead(weeks=0)
    appointment = book_at(
        booked + timedelta(days=3), booked, urgent=True, red_flags=["fever"]
    ).appointment
    cancel_appointment(db.session, appointment, booked + timedelta(minutes=5), Actor.patient())
    db.session.commit()
    assert db.session.get(Appointment, appointment.id).status == "cancelled"
    assert appointment.reference in waiting_list(staff_client)
    assert escalate_waiting(db.session, booked + timedelta(minutes=61)) == 1
    assert escalations_written() == 1


def test_every_red_flag_has_its_group_and_an_earlier_bookings_answers_read_as_before(
    app, consultant, book_at, staff_client
):
    """Each symptom on the checklist belongs to one group with its guidance; the codes the
    earlier checklist asked (and this one no longer does) still read, and stay urgent."""
    groups = [
        choices.RED_FLAGS_EMERGENCY,
        choices.RED_FLAGS_CANCER_TEAM,
        choices.RED_FLAGS_SELF_HARM,
    ]
    codes = [code for group in groups for code, _ in group]
    assert len(codes) == len(set(codes))
    for code in codes:
        guidance = guidance_for([code], True)
        assert [guidance.emergency, guidance.cancer_team, guidance.self_harm].count(True) == 1
    assert guidance_for(["confusion"], True).emergency  # moved: it cannot wait
    assert guidance_for(["spine"], True).emergency  # moved: spinal cord compression
    now = monday_ahead()
    earlier = book_at(now + timedelta(days=3), now, urgent=True, red_flags=["vomiting", "jaundice"])
    assert guidance_for(["vomiting"], True).cancer_team and is_urgent(["jaundice"])
    page = staff_client.get(f"/staff/appointments/{earlier.appointment.reference}")
    text = page.get_data(as_text=True)
    assert "Vomiting or diarrhoea that would not stop (earlier checklist)" in text
    assert "Yellow skin or yellow eyes (earlier checklist)" in text
