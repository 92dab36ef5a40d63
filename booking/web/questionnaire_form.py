"""The health questionnaire's form, built from its questions' one definition
(``intake/questionnaire_questions.py``). Every question may be left for later when the patient
saves part-way; sending it as finished asks for the answers a consultant cannot decide without.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import ValidationError

from ..intake.questionnaire_questions import NEEDED_TO_FINISH, QUESTIONNAIRE
from .question_fields import check_required, field_for

NEEDED = "Please answer this before sending."


class OptionalRadio(RadioField):
    """A radio group that may be left unanswered; an answer must be one of the choices."""

    def pre_validate(self, form):
        if self.data not in (None, "") and self.data not in dict(self.choices or []):
            raise ValidationError("Choose from the list.")


class QuestionnaireForm(FlaskForm):
    # The questions, from their one definition (intake/questionnaire_questions.py).
    for _question in QUESTIONNAIRE:
        locals()[_question.name] = field_for(_question, radio=OptionalRadio)
    del _question

    def validate(self, extra_validators=None) -> bool:
        """The field checks, then each question another answer makes required (the policy
        number once the patient asks staff to check the cover)."""
        valid = super().validate(extra_validators)
        return check_required(self, QUESTIONNAIRE) and valid

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

    def speak(self, relative: bool, patient: str) -> None:
        """Word each question for whoever fills it in: to the patient, or to a relative,
        naming the patient. Each field keeps both wordings, and the page's script switches
        them when the answer to "Who is filling this in?" changes."""
        for question in QUESTIONNAIRE:
            if question.voices is None:
                continue
            field = self[question.name]
            field.voices = (question.spoken(False, patient), question.spoken(True, patient))
            field.label.text = field.voices[relative]

    def check_finished(self) -> bool:
        """Add an error to each question that sending as finished needs; True when none is
        missing."""
        missing = [self[name] for name in NEEDED_TO_FINISH if not self[name].data]
        for field in missing:
            field.errors = [*field.errors, NEEDED]
        return not missing
