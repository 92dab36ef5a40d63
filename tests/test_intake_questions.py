"""The intake questions are defined once: the booking form and the questionnaire are built from
their definitions, and every stored intake column has its question."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from booking.appointments.listing import defined_values
from booking.core.models import Appointment, Intake
from booking.extensions import db
from booking.intake import choices
from booking.intake.booking_questions import (
    BOOKING_QUESTIONS,
    NOT_ASKED,
    Question,
    label_and_words,
)
from booking.intake.questionnaire_questions import QUESTIONNAIRE, answer_rows
from booking.web.booking_form import BookingForm
from booking.web.questionnaire_form import QuestionnaireForm
from booking.web.rebook import answers_of_booking


def test_every_intake_column_has_its_question_in_words(app):
    columns = {c.key for c in Intake.__table__.columns} - {"id", "appointment_id"}
    defined = {question.name for question in BOOKING_QUESTIONS}
    assert columns == defined | set(NOT_ASKED)


def test_the_booking_form_asks_each_question_as_defined(app):
    with app.test_request_context():
        form = BookingForm(formdata=None, meta={"csrf": False})
    for question in BOOKING_QUESTIONS:
        field = form[question.name]
        assert field.label.text == question.label
        assert field.description == (question.hint or "")
        if question.choices:
            offered = {value for value, _ in field.choices.items()} - {""}
            assert offered == {value for value, _ in question.choices}, question.name


def test_the_questionnaire_asks_each_question_as_defined(app):
    with app.test_request_context():
        form = QuestionnaireForm(formdata=None, meta={"csrf": False})
    names = [field.name for field in form if field.name != "csrf_token"]
    assert names == [question.name for question in QUESTIONNAIRE]
    for question in QUESTIONNAIRE:
        assert form[question.name].label.text == question.label


def test_stored_answers_read_in_the_forms_words():
    assert label_and_words("treatments", "immunotherapy,interferon") == (
        "Current treatment (choose all that apply)",
        "Immunotherapy / checkpoint inhibitors, Cytokine therapy: interferon",
    )
    assert label_and_words("cost_help", True) == ("We need help with the costs of treatment", "Yes")
    assert label_and_words("policy_number", "P-1")[0] == "Policy number"  # asked by an old form
    heart, distress, worries = answer_rows(
        {"condition_heart": "yes", "distress": "7", "worries": ["money"]}
    )
    assert heart[2] is True and distress[2] is False  # a "yes" to a condition is marked
    assert distress[1] == "7" and worries[1] == dict(choices.WORRIES)["money"]


def test_a_question_defined_only_here_is_asked_kept_and_shown(
    client, staff_client, consultant, booking_form
):
    """treating_hospital is handled from its definition alone: the form shows it in its
    section, the booking keeps it encrypted, and the staff page, the data download and a new
    booking after a cancellation read it back, all without naming it."""
    typed = "Tata Memorial, Dr Rao"
    refused = client.post("/book", data=booking_form(treating_hospital=typed, consent_health=None))
    page = refused.get_data(as_text=True)
    treatment = page[page.index('id="s-treatment"') : page.index('id="s-payment"')]
    assert f'name="treating_hospital" type="text" value="{typed}"' in treatment
    booked = client.post("/book", data=booking_form(treating_hospital=typed))
    assert booked.status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    raw = db.session.execute(sa.text("SELECT treating_hospital FROM intake")).scalar_one()
    assert "Tata" not in raw  # encrypted, as its definition's stored_as says
    detail = staff_client.get(f"/staff/appointments/{appointment.reference}")
    shown = detail.get_data(as_text=True)
    assert "<dt>Treating hospital or oncologist</dt><dd>Tata Memorial, Dr Rao</dd>" in shown
    assert answers_of_booking(appointment)["treating_hospital"] == "Tata Memorial, Dr Rao"


@pytest.mark.parametrize(
    ("stored_as", "answer", "kept", "shown_again"),
    [
        ("codes", ["b", "a"], "a,b", ["a", "b"]),
        ("codes", [], None, []),
        ("flag", "y", True, True),
        ("code", "", None, None),
        ("text", "Some words", "Some words", "Some words"),
    ],
)
def test_an_answer_is_kept_as_its_definition_says(stored_as, answer, kept, shown_again):
    question = Question(
        "probe", "Probe", "checkboxes", (("a", "A"), ("b", "B")), stored_as=stored_as
    )
    assert question.stored(answer) == kept
    assert question.for_form(kept) == shown_again


def test_the_csv_gives_a_defined_questions_stored_code():
    """The CSV's cells for questions handled from their definition alone (none is exported
    today: treating_hospital is free text), tried on columns the intake has."""
    flag = Question("cost_help", "Help?", "box", stored_as="flag", section="payment")
    codes = Question("treatments", "Treatment", "checkboxes", stored_as="codes", section="payment")
    intake = Intake(cost_help=True, treatments="interferon,surgery")
    assert defined_values(intake, [flag, codes]) == {
        "cost_help": "yes",
        "treatments": "interferon,surgery",
    }
    assert defined_values(Intake(cost_help=False, treatments=None), [flag, codes]) == {
        "cost_help": "no",
        "treatments": "",
    }
