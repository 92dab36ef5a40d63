"""The health questionnaire's form. Every question may be left for later when the patient
saves part-way; sending it as finished asks for the answers a consultant cannot decide without.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField
from wtforms.validators import ValidationError

from .. import choices
from ..fields import MultiCheckboxField, line, text

NEEDED = "Please answer this before sending."


class OptionalRadio(RadioField):
    """A radio group that may be left unanswered; an answer must be one of the choices."""

    def pre_validate(self, form):
        if self.data not in (None, "") and self.data not in dict(self.choices or []):
            raise ValidationError("Choose from the list.")


def yes_no(label: str) -> OptionalRadio:
    return OptionalRadio(label, choices=dict(choices.YES_NO_UNSURE))


class QuestionnaireForm(FlaskForm):
    earlier_treatments = text(
        "Earlier cancer treatments: what, when, and did they help? (optional)", 3000
    )
    earlier_immunotherapy = MultiCheckboxField(
        "Has the patient ever had any of these?", choices=dict(choices.EARLIER_IMMUNOTHERAPY)
    )
    bad_reactions = yes_no("Any bad reaction to a cancer treatment?")
    bad_reaction_details = text("What happened? (optional)", 2000)

    spread = MultiCheckboxField(
        "Where has the cancer spread? (choose all that apply)", choices=dict(choices.SPREAD)
    )

    # One Yes / No / Not sure question per condition, named condition_<code>.
    for _code, _label in choices.CONDITIONS:
        locals()[f"condition_{_code}"] = yes_no(_label)
    del _code, _label
    condition_details = text("Anything to add about these? (optional)", 2000)

    self_harm = OptionalRadio(
        "Have you had thoughts of harming yourself or of ending your life?",
        choices=dict(choices.SELF_HARM),
    )

    for _code, _label in choices.MEDICINES:
        locals()[f"medicine_{_code}"] = yes_no(_label)
    del _code, _label
    medicines = text("Every medicine taken now, with doses if you know them (optional)", 3000)

    allergies = yes_no("Any allergy or severe reaction to a medicine?")
    allergy_details = text("To what, and what happened? (optional)", 1000)

    pregnancy = OptionalRadio(
        "Is the patient pregnant or breastfeeding?", choices=dict(choices.PREGNANCY)
    )
    children_plans = yes_no("Would the patient like to have children in the future?")

    daily_activity = OptionalRadio(
        "Which is closest to the patient's days now?", choices=dict(choices.DAILY_ACTIVITY)
    )

    city = line("City or town where the patient lives", 120)
    state = line("State", 60)
    can_stay = yes_no(
        "Could the patient travel to, and stay near, a hospital for about a week if needed?"
    )

    reports = MultiCheckboxField(
        "Which reports do you have? (choose all that apply)", choices=dict(choices.REPORTS)
    )

    distress = OptionalRadio(
        "How much distress have you felt in the past week, including today?",
        choices=dict(choices.DISTRESS),
    )
    worries = MultiCheckboxField(
        "Is any of these a worry at the moment? (choose any)", choices=dict(choices.WORRIES)
    )

    check_cover = BooleanField("Please check the insurance cover for me before the consult")
    policy_number = line("Policy or card number", 60)

    # Sending as finished needs these; saving part-way needs none.
    NEEDED_TO_FINISH = (
        "spread",
        *(f"condition_{code}" for code, _ in choices.CONDITIONS),
        "self_harm",
        "daily_activity",
        "can_stay",
        "distress",
    )

    def validate_policy_number(self, field):
        if self.check_cover.data and not field.data:
            raise ValidationError("Enter the policy or card number, so staff can check cover.")

    def answers(self) -> dict:
        """What was answered, by field name; questions left blank are not stored."""
        values = {}
        for field in self:
            if field.name == "csrf_token" or field.data in (None, "", [], False):
                continue
            values[field.name] = field.data
        if not self.check_cover.data:
            values.pop("policy_number", None)
        return values

    def check_finished(self) -> bool:
        """Add an error to each question that sending as finished needs; True when none is
        missing."""
        missing = [self[name] for name in self.NEEDED_TO_FINISH if not self[name].data]
        for field in missing:
            field.errors = [*field.errors, NEEDED]
        return not missing


def answer_rows(answers: dict) -> list[tuple[str, str, bool]]:
    """Every question in page order with its answer in words, for the staff page; the third
    value marks a "yes" to a condition, a medicine or a reaction the consultant must see."""
    form = QuestionnaireForm(formdata=None, data=answers, meta={"csrf": False})
    rows = []
    for field in form:
        if field.name == "csrf_token" or field.name not in answers:
            continue
        value = answers[field.name]
        options = dict(field.choices or []) if hasattr(field, "choices") else {}
        if isinstance(value, list):
            words = ", ".join(str(options.get(item, item)) for item in value)
        elif isinstance(value, bool):
            words = "Yes" if value else "No"
        else:
            words = str(options.get(value, value))
        attention = value == "yes" and field.name.startswith(
            ("condition_", "medicine_", "bad_reactions", "allergies")
        )
        rows.append((field.label.text, words, attention))
    return rows
