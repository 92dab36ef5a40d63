"""The health questionnaire, through real HTTP: reached with the emailed link, saved part-way
and sent, closed when the consult starts, encrypted at rest, and the answers that ask staff to
call (distress, self-harm) reaching the staff pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.core.models import Appointment, AuditEvent, Questionnaire
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from tests.databases import BOTH_DATABASES
from tests.helpers import csrf_token

pytestmark = BOTH_DATABASES

# Every answer a finished questionnaire needs, all calm.
FINISHED = {
    "spread": ["lymph_nodes"],
    **{
        f"condition_{code}": "no"
        for code in (
            "heart",
            "lung",
            "kidney",
            "liver",
            "seizures",
            "transplant",
            "infection_now",
            "tb_hepatitis_b",
            "autoimmune",
            "thyroid",
            "diabetes",
            "mood",
            "psychosis",
        )
    },
    "self_harm": "no",
    "daily_activity": "1",
    "can_stay": "yes",
    "distress": "2",
}


def book_with_link(client, booking_form, smtp, **answers):
    """A booking made through the form, and the questionnaire link from its email."""
    assert client.post("/book", data=booking_form(slot_index=250, **answers)).status_code == 302
    dispatch_outbox(db.session)
    text = smtp.messages[0].get_body(("plain",)).get_content()
    assert "Health questionnaire, please fill it in" in text
    link = re.search(r"http://[^/\s]+(/manage/\S+/questionnaire)", text)[1]
    return db.session.scalar(sa.select(Appointment)), link


@pytest.fixture
def booked(client, consultant, booking_form, smtp):
    return book_with_link(client, booking_form, smtp)


def post(client, link, action, **answers):
    token = csrf_token(client.get(link).get_data(as_text=True))
    return client.post(link, data={"csrf_token": token, "action": action, **answers})


def stored(appointment) -> Questionnaire | None:
    db.session.expire_all()
    return db.session.get(Appointment, appointment.id).questionnaire


def test_the_confirmation_page_and_manage_page_link_to_it(app, client, booked):
    appointment, link = booked
    confirmed = client.get("/book/confirmed").get_data(as_text=True)
    # The page links through /book/confirmed/..., which makes a manage link when followed:
    # the session cookie (signed, not secret) never holds one.
    assert 'href="/book/confirmed/questionnaire">Fill in the health questionnaire' in confirmed
    followed = client.get("/book/confirmed/questionnaire")
    assert followed.status_code == 302 and "/manage/" in followed.headers["Location"]
    assert client.get(followed.headers["Location"]).status_code == 200
    serializer = app.session_interface.get_signing_serializer(app)
    stored = serializer.loads(client.get_cookie("session").value)
    token = followed.headers["Location"].split("/manage/")[1].split("/")[0]
    assert token not in str(stored) and "manage_token" not in stored
    manage = client.get(link.removesuffix("/questionnaire")).get_data(as_text=True)
    assert "Not filled in yet" in manage and link in manage


def test_saved_part_way_then_finished_later(client, booked, staff_client):
    appointment, link = booked
    response = post(client, link, "save", city="Nagpur", condition_heart="not_sure")
    assert response.status_code == 302
    assert "finish it later" in client.get(link).get_data(as_text=True)
    assert stored(appointment).status == "started"

    # Coming back with the link shows what was saved.
    page = client.get(link).get_data(as_text=True)
    assert 'value="Nagpur"' in page
    assert '<input checked id="condition_heart-2" name="condition_heart"' in page
    listed = staff_client.get("/staff/appointments").get_data(as_text=True)
    assert "started" in listed

    # Sending needs the answers a consultant cannot decide without; nothing typed is lost.
    response = post(client, link, "send", city="Nagpur", medicines="Telmisartan 40 mg")
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "Please answer this before sending." in page and "answer each question marked below" in page
    )
    assert 'href="#daily_activity"' in page
    assert "Telmisartan 40 mg" in page
    assert stored(appointment).status == "started"

    response = post(client, link, "send", **FINISHED, city="Nagpur")
    assert response.status_code == 302
    questionnaire = stored(appointment)
    assert questionnaire.status == "done" and questionnaire.completed_at is not None
    assert questionnaire.follow_up is None
    assert "Sent, thank you" in client.get(link.removesuffix("/questionnaire")).get_data(
        as_text=True
    )
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.appointment_id == appointment.id)
    ).all()
    assert actions.count("questionnaire_saved") == 1 and "questionnaire_sent" in actions

    detail = staff_client.get(f"/staff/appointments/{appointment.reference}")
    page = detail.get_data(as_text=True)
    assert "questionnaire-done" in page and "Nagpur" in page


def test_answers_are_encrypted_and_nothing_shows_on_the_manage_page(client, booked):
    appointment, link = booked
    post(client, link, "save", medicines="Warfarin 5 mg daily", city="Pune")
    raw = db.session.execute(sa.text("SELECT answers FROM questionnaire")).scalar_one()
    assert raw.startswith("gAAAA") and "Warfarin" not in raw
    manage = client.get(link.removesuffix("/questionnaire")).get_data(as_text=True)
    assert "Warfarin" not in manage and "Pune" not in manage


def test_hindi_text_with_zero_width_joiners_survives_the_round_trip(client, booked):
    appointment, link = booked
    medicines = "अश्‍वगंधा चूर्ण, क्‌ष\u200c\u200d"  # with ZWJ/ZWNJ, as Indian keyboards type them
    post(client, link, "save", medicines=medicines)
    page = client.get(link).get_data(as_text=True)
    assert medicines in page
    assert "\u200d" in medicines and "\u200c" in medicines


def test_no_changes_once_the_consult_has_started(client, booked):
    appointment, link = booked
    post(client, link, "save", city="Indore")
    token = csrf_token(client.get(link).get_data(as_text=True))  # a page opened before the start
    row = db.session.get(Appointment, appointment.id)
    row.starts_at = now_utc() - timedelta(minutes=5)
    row.ends_at = now_utc() + timedelta(minutes=25)
    db.session.commit()

    page = client.get(link).get_data(as_text=True)
    assert "can no longer be changed" in page
    assert 'name="action"' not in page
    response = client.post(link, data={"csrf_token": token, "action": "save", "city": "Bhopal"})
    assert response.status_code == 409
    assert (
        "Indore" in db.session.execute(sa.select(Questionnaire)).scalar_one().answers
    )  # decrypted through the model: the old answer stands


def test_a_wrong_link_finds_nothing(client, booked):
    appointment, _ = booked
    response = client.get("/manage/" + "A" * 43 + "/questionnaire")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "This link does not work" in page
    assert appointment.reference not in page and "Asha" not in page
    wrong_post = post_without_page(client, "/manage/" + "A" * 43 + "/questionnaire")
    assert wrong_post.status_code == 404
    assert stored(appointment) is None  # nothing was saved anywhere


def post_without_page(client, link):
    token = csrf_token(client.get("/book").get_data(as_text=True))
    return client.post(link, data={"csrf_token": token, "action": "send", **FINISHED})


def test_distress_asks_staff_to_call_once_per_new_reason(client, booked, staff_client):
    appointment, link = booked
    post(client, link, "send", **{**FINISHED, "distress": "7", "worries": ["money", "travel"]})
    questionnaire = stored(appointment)
    assert questionnaire.follow_up == "distress" and questionnaire.needs_follow_up

    home = staff_client.get("/staff/").get_data(as_text=True)
    assert "Questionnaires that ask for a call" in home and appointment.reference in home
    detail = staff_client.get(f"/staff/appointments/{appointment.reference}").get_data(as_text=True)
    assert "Distress of 4 or more (not yet called)" in detail
    response = staff_client.post(
        f"/staff/appointments/{appointment.reference}/follow-up",
        data={"csrf_token": csrf_token(detail)},
    )
    assert response.status_code == 302
    assert not stored(appointment).needs_follow_up
    assert "Questionnaires that ask for a call" not in staff_client.get("/staff/").get_data(
        as_text=True
    )
    assert db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "questionnaire_followed_up")
    )

    # The same reason again does not ask twice; a new one does.
    post(client, link, "send", **{**FINISHED, "distress": "8"})
    assert not stored(appointment).needs_follow_up
    post(client, link, "send", **{**FINISHED, "distress": "8", "self_harm": "past"})
    questionnaire = stored(appointment)
    assert questionnaire.needs_follow_up and questionnaire.follow_up == "self_harm,distress"


def test_a_score_below_four_asks_for_nothing(client, booked):
    appointment, link = booked
    post(client, link, "send", **{**FINISHED, "distress": "3"})
    assert stored(appointment).follow_up is None


def test_a_score_of_exactly_four_asks_staff_to_call(client, booked, staff_client):
    appointment, link = booked
    post(client, link, "send", **{**FINISHED, "distress": "4"})
    assert stored(appointment).follow_up == "distress"
    home = staff_client.get("/staff/").get_data(as_text=True)
    assert "Questionnaires that ask for a call" in home and appointment.reference in home


def test_self_harm_now_reopens_a_call_back_staff_had_closed(
    client, consultant, booking_form, smtp, staff_client
):
    """A booking with a fever was called back and closed; days later the questionnaire says
    self-harm thoughts now. The case opens again and waits on the list with a new deadline."""
    appointment, link = book_with_link(client, booking_form, smtp, red_flags=["fever"])
    detail = f"/staff/appointments/{appointment.reference}"
    token = csrf_token(staff_client.get(detail).get_data(as_text=True))
    closed = staff_client.post(
        f"{detail}/call-back", data={"csrf_token": token, "outcome": "reached", "note": ""}
    )
    assert closed.status_code == 302
    case = db.session.get(Appointment, appointment.id).urgent_case
    db.session.refresh(case)
    assert case.closed_at is not None
    assert "No urgent call-back is waiting." in staff_client.get("/staff/").get_data(as_text=True)

    before = now_utc()
    post(client, link, "save", self_harm="now")
    db.session.expire_all()
    row = db.session.get(Appointment, appointment.id)
    assert row.urgent_case.id == case.id  # the same case, open again
    assert row.urgent_case.closed_at is None and row.urgent_case.closed_by_id is None
    assert row.urgent_case.next_escalation_at.replace(tzinfo=None) > before.replace(tzinfo=None)
    assert row.intake.red_flag_list == ["fever", "self_harm"]
    home = staff_client.get("/staff/").get_data(as_text=True)
    assert 'Urgent, not yet reached <span class="muted">(1)' in home


def test_self_harm_now_shows_the_crisis_line_at_once_and_opens_a_call_back(
    client, booked, staff_client
):
    appointment, link = booked
    response = post(client, link, "save", self_harm="now")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'role="alert"' in page and 'href="tel:14416"' in page
    row = db.session.get(Appointment, appointment.id)
    db.session.refresh(row)
    assert row.urgent and row.urgent_case is not None and row.urgent_case.closed_at is None
    assert "self_harm" in row.intake.red_flag_list and "none" not in row.intake.red_flag_list
    home = staff_client.get("/staff/").get_data(as_text=True)
    assert 'Urgent, not yet reached <span class="muted">(1)' in home


def test_the_24_hour_reminder_asks_again_only_while_it_is_not_done(client, booked, smtp):
    from booking.messages.notifications import reminder_email

    appointment, link = booked
    row = db.session.get(Appointment, appointment.id)
    text = reminder_email(row, [], None, "tok", row.starts_at - timedelta(hours=24)).text
    assert "not finished yet" in text
    post(client, link, "send", **FINISHED)
    row = db.session.get(Appointment, appointment.id)
    db.session.refresh(row)
    text = reminder_email(row, [], None, "tok", row.starts_at - timedelta(hours=24)).text
    assert "not finished yet" not in text
    assert "/manage/tok/questionnaire" in text


def test_the_summary_highlights_what_could_make_treatment_unsafe(client, booked, staff_client):
    appointment, link = booked
    answers = {
        **FINISHED,
        "condition_heart": "yes",
        "condition_autoimmune": "not_sure",
        "spread": ["lungs", "brain"],
        "daily_activity": "3",
        "earlier_immunotherapy": ["checkpoint"],
        "reports": ["scans"],
    }
    post(client, link, "send", **answers)
    page = staff_client.get(f"/staff/appointments/{appointment.reference}").get_data(as_text=True)
    summary = page[page.index("Summary for the consultant") : page.index('id="h-consult"')]
    first = summary[summary.index("Look at first") : summary.index("Missing")]
    assert "Heart disease" in first and "Spread to the brain" in first
    assert "ECOG 3" in first and "Checkpoint inhibitors" in first
    assert "Not sure: Autoimmune disease" in summary
    assert "Biopsy or histopathology report" in summary[summary.index("Missing") :]
    assert "Interleukin-2" in summary and "(born 15 Aug 1962)" in summary


def test_the_filter_finds_questionnaires_not_done_with_a_consult_within_3_days(
    client, consultant, booking_form, staff_client
):
    soon = booking_form(slot_index=2, patient_email="soon@example.com")
    later = booking_form(slot_index=400, patient_email="later@example.com")
    for data in (soon, later):
        assert client.post("/book", data=data).status_code == 302
    by_email = {a.patient_email: a.reference for a in db.session.scalars(sa.select(Appointment))}
    page = staff_client.get("/staff/appointments?questionnaire=not_done_soon").get_data(
        as_text=True
    )
    assert by_email["soon@example.com"] in page
    assert by_email["later@example.com"] not in page
