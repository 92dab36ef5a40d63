"""The intake questions are defined once: the booking form and the questionnaire are built from
their definitions, and every stored intake column has its question."""

from __future__ import annotations

from booking.core.models import Intake
from booking.intake.booking_questions import BOOKING_QUESTIONS, NOT_ASKED, label_and_words
from booking.intake.questionnaire_questions import QUESTIONNAIRE, answer_rows
from booking.web.booking_form import BookingForm
from booking.web.questionnaire_form import QuestionnaireForm


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
    rows = answer_rows({"condition_heart": "yes", "distress": "7", "worries": ["money"]})
    assert [(label, attention) for label, _, attention in rows][0][1] is True
    assert rows[1][1] == "7"
