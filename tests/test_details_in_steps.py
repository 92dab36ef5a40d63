"""The patient's details in five short steps, through real HTTP: each step checked on its own,
the answers kept on the server (encrypted) across Back, a reload and a change of time, the
safety guidance carried onto the later steps, a check of every answer with a way to change
any of them, and the booking made from them all."""

from __future__ import annotations

import re

import sqlalchemy as sa

from booking.appointments.drafts import clear_expired_drafts
from booking.core.models import Appointment, BookingDraft
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.web.booking_form import BookingForm
from booking.web.details_steps import STEPS
from tests.databases import BOTH_DATABASES
from tests.factories import VALID_ANSWERS
from tests.helpers import csrf_token, error_for
from tests.test_booking_steps import choose, slots

pytestmark = BOTH_DATABASES


def answers_of_step(number: int, **changes) -> dict:
    step = STEPS[number - 1]
    answers = {name: value for name, value in VALID_ANSWERS.items() if name in step.fields}
    answers.update(changes)
    return {name: value for name, value in answers.items() if value is not None}


def send(client, number: int, action="next", check=False, **answers):
    page = client.get(f"/book/details?step={number}").get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "step": str(number), "action": action, **answers}
    if check:
        data["check"] = "1"
    return client.post("/book", data=data)


def step_page(client, number: int) -> str:
    response = client.get(f"/book/details?step={number}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_every_question_of_the_form_is_on_exactly_one_step(app):
    with app.test_request_context():
        form = BookingForm(formdata=None)
    carried = {"csrf_token", "timezone", "slot", "submission_key", "leave_blank"}
    asked = [name for step in STEPS for name in step.fields]
    assert sorted(asked) == sorted(field.name for field in form if field.name not in carried)


def test_a_family_books_through_the_five_steps(app, client, consultant):
    time = slots(app)[5]
    choose(client, time)
    first = step_page(client, 1)
    assert "Step 1 of 5" in first and "Who is booking, and how to reach the patient" in first
    assert re.search(r"We keep it for you until \d\d:\d\d", first)
    assert 'name="red_flags"' not in first  # the safety check is the next step

    # A step shows only its own errors, with what was typed kept.
    response = send(client, 1, **answers_of_step(1, patient_email="not-an-email"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_for(page, "patient_email")
    assert 'value="Asha Verma"' in page and "red_flags" not in page
    assert send(client, 1, **answers_of_step(1)).headers["Location"].endswith("step=2")

    second = step_page(client, 2)
    assert "Step 2 of 5" in second and "Right now, or in the last 24 hours" in second
    response = send(client, 2)  # nothing ticked
    assert response.status_code == 422
    assert "Tick any that apply" in error_for(response.get_data(as_text=True), "red_flags")
    send(client, 2, red_flags=["fever"])

    # The guidance for what was ticked stays at the top of the later steps.
    third = step_page(client, 3)
    alert = third[
        third.index('class="urgent" role="alert"') : third.index(
            "</div>", third.index('class="urgent"') + 400
        )
    ]
    assert "Call your cancer team now, day or night" in alert
    assert send(client, 3, **answers_of_step(3)).status_code == 303
    assert send(client, 4, **answers_of_step(4)).status_code == 303

    # The check shows every answer in words, each step with a way to change it.
    last = step_page(client, 5)
    check = last[last.index("Check your answers") : last.index('id="s-questions"')]
    for words in ("Asha Verma", "Melanoma", "Private health insurance", "Star Health"):
        assert words in check, words
    # The date of birth as it was read, and each question as the page asked it.
    assert "<dd>15 August 1962</dd>" in check
    assert check.count("How should we contact") == 1
    assert 'href="/book/details?step=3&amp;check=1"' in check
    response = send(client, 5, action="book", **answers_of_step(5))
    assert response.status_code == 302 and response.headers["Location"].endswith("/book/confirmed")
    appointment = db.session.scalars(sa.select(Appointment)).one()
    assert appointment.patient_name == "Asha Verma" and appointment.urgent
    assert appointment.intake.insurer == "Star Health"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BookingDraft)) == 0


def test_back_a_reload_and_a_new_time_lose_nothing(app, client, consultant):
    first_time, later = slots(app)[5], slots(app)[40]
    choose(client, first_time)
    send(client, 1, **answers_of_step(1))
    send(client, 2, red_flags=["none"])
    send(client, 3, **answers_of_step(3))
    send(client, 4, action="back", **answers_of_step(4, insurer="New India Assurance"))

    # Back from step 4 to step 2, and forward again: everything is there.
    again = step_page(client, 2)
    assert 'checked id="red_flags-' in again and 'value="none"' in again
    third = step_page(client, 3)
    assert "Lesion on the left shoulder, BRAF negative" in third
    fourth = step_page(client, 4)  # a reload
    assert 'value="New India Assurance"' in fourth

    # A new time: the answers stay, the new time is the one shown and booked.
    response = send(client, 4, action="change_time", **answers_of_step(4))
    assert response.headers["Location"].endswith("/book")
    choose(client, later)
    assert 'value="Asha Verma"' in step_page(client, 1)
    last = step_page(client, 5)
    assert f'name="slot" value="{later}"' in last
    response = send(client, 5, action="book", **answers_of_step(5))
    assert response.status_code == 302
    appointment = db.session.scalars(sa.select(Appointment)).one()
    assert appointment.intake.insurer == "Star Health"


def test_a_change_from_the_check_goes_back_to_the_check(app, client, consultant):
    choose(client, slots(app)[5])
    for number in (1, 3, 4):
        send(client, number, **answers_of_step(number))
    send(client, 2, red_flags=["none"])
    page = client.get("/book/details?step=3&check=1").get_data(as_text=True)
    assert "Save and go back to the check" in page and 'name="check" value="1"' in page
    response = send(client, 3, check=True, **answers_of_step(3, stage="4"))
    assert response.headers["Location"].endswith("step=5")
    assert "<dd>Stage IV</dd>" in step_page(client, 5)


def test_an_error_left_on_an_earlier_step_is_shown_on_that_step(app, client, consultant):
    choose(client, slots(app)[5])
    send(client, 1, **answers_of_step(1))
    send(client, 2, red_flags=["none"])
    # Step 3 skipped (a link followed straight to step 5): booking shows step 3's errors.
    send(client, 4, **answers_of_step(4))
    response = send(client, 5, action="book", **answers_of_step(5))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Step 3 of 5" in page and error_for(page, "cancer_type")
    assert "consent_health" not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)) == 0


def test_the_answers_kept_are_encrypted_and_go_with_their_hold(app, client, consultant):
    choose(client, slots(app)[5])
    send(client, 1, **answers_of_step(1))
    stored = db.session.execute(sa.text("SELECT answers, expires_at FROM booking_draft")).one()
    assert "Asha Verma" not in stored[0] and "asha.verma" not in stored[0]
    clear_expired_drafts(db.session, now_utc())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BookingDraft)) == 1
    later = now_utc().replace(year=now_utc().year + 1)
    clear_expired_drafts(db.session, later)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(BookingDraft)) == 0


def test_a_step_without_a_time_held_keeps_the_answers_and_asks_for_a_time(client, consultant):
    page = client.get("/book").get_data(as_text=True)
    response = client.post(
        "/book",
        data={"csrf_token": csrf_token(page), "step": "1", "action": "next", **answers_of_step(1)},
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/book")
    assert "your answers are kept" in client.get("/book").get_data(as_text=True)


def test_the_steps_on_the_way_do_not_count_against_the_booking_limit(app, client, consultant):
    """Many families share one mobile network address: the limit counts the time held and
    the booking made, not the five steps between them."""
    app.config["BOOKING_RATE_LIMIT"] = "2 per hour"
    choose(client, slots(app)[5])
    for number in (1, 2, 3, 4):
        assert send(client, number, **answers_of_step(number)).status_code == 303
    response = send(client, 5, action="book", **answers_of_step(5))
    assert response.status_code == 302 and response.headers["Location"].endswith("/book/confirmed")
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 1
