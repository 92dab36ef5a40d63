"""The health questionnaire's form, built from its questions' one definition
(``intake/questionnaire_questions.py``). Every question may be left for later when the patient
saves part-way; sending it as finished asks for the answers a consultant cannot decide without.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField
from wtforms.validators import ValidationError

from ..intake.booking_questions import Question
from ..intake.questionnaire_questions import NEEDED_TO_FINISH, QUESTIONNAIRE
from .fields import MultiCheckboxField, line, text

NEEDED = "Please answer this before sending."


class OptionalRadio(RadioField):
    """A radio group that may be left unanswered; an answer must be one of the choices."""

    def pre_validate(self, form):
        if self.data not in (None, "") and self.data not in dict(self.choices or []):
            raise ValidationError("Choose from the list.")


def field_for(question: Question):
    """The field for one questionnaire question: a radio group may stay unanswered."""
    kwargs = {"description": question.hint or ""}
    if question.kind == "line":
        return line(question.label, question.max_length, **kwargs)
    if question.kind == "text":
        return text(question.label, question.max_length, **kwargs)
    if question.kind == "radio":
        return OptionalRadio(question.label, choices=dict(question.choices), **kwargs)
    if question.kind == "checkboxes":
        return MultiCheckboxField(question.label, choices=dict(question.choices), **kwargs)
    if question.kind == "box":
        return BooleanField(question.label, **kwargs)
    raise ValueError(f"no field for a question of kind {question.kind!r}")


class QuestionnaireForm(FlaskForm):
    # The questions, from their one definition (intake/questionnaire_questions.py).
    for _question in QUESTIONNAIRE:
        locals()[_question.name] = field_for(_question)
    del _question

    def validate(self, extra_validators=None) -> bool:
        """The field checks, then each question another answer makes required (the policy
        number once the patient asks staff to check the cover)."""
        valid = super().validate(extra_validators)
        answers = {name: field.data for name, field in self._fields.items()}
        for question in QUESTIONNAIRE:
            field = self[question.name]
            if question.needs_answer(answers) and not field.data and not field.errors:
                field.errors = [*field.errors, question.required]
                valid = False
        return valid

    def answers(self) -> dict:
        """What was answered, by field name; questions left blank, or not asked, are not
        stored."""
        asked = {name: field.data for name, field in self._fields.items()}
        values = {}
        for question in QUESTIONNAIRE:
            data = self[question.name].data
            if data in (None, "", [], False) or not question.asked(asked):
                continue
            values[question.name] = data
        return values

    def check_finished(self) -> bool:
        """Add an error to each question that sending as finished needs; True when none is
        missing."""
        missing = [self[name] for name in NEEDED_TO_FINISH if not self[name].data]
        for field in missing:
            field.errors = [*field.errors, NEEDED]
        return not missing
