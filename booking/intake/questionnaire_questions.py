"""The health questionnaire's questions, defined once: the form builds its fields from them,
and the consultant's page and the patient's data download show stored answers with them.

Every question may be left for later when the patient saves part-way; the ones in
``NEEDED_TO_FINISH`` must be answered to send it as finished. Answers are stored as one
encrypted JSON document (see ``health_questionnaire.py``), so adding a question here needs no
migration.
"""

from __future__ import annotations

from typing import Any

from . import choices
from .booking_questions import Question


def _yes_no(name: str, label: str, hint: str | None = None) -> Question:
    return Question(name, label, "radio", tuple(choices.YES_NO_UNSURE), hint=hint)


def _asked_to_check_cover(answers) -> bool:
    return bool(answers.get("check_cover"))


QUESTIONNAIRE: tuple[Question, ...] = (
    Question(
        "earlier_treatments",
        "Earlier cancer treatments: what, when, and did they help? (optional)",
        "text",
        max_length=3000,
        hint="For example: surgery in 2024, 6 cycles of chemotherapy, the cancer shrank.",
    ),
    Question(
        "earlier_immunotherapy",
        "Has the patient ever had any of these?",
        "checkboxes",
        tuple(choices.EARLIER_IMMUNOTHERAPY),
    ),
    _yes_no("bad_reactions", "Any bad reaction to a cancer treatment?"),
    Question("bad_reaction_details", "What happened? (optional)", "text", max_length=2000),
    Question(
        "spread",
        "Where has the cancer spread? (choose all that apply)",
        "checkboxes",
        tuple(choices.SPREAD),
        hint="As your doctors have told you, or as the scan reports say.",
    ),
    # One Yes / No / Not sure question per condition, named condition_<code>.
    *(_yes_no(f"condition_{code}", label) for code, label in choices.CONDITIONS),
    Question(
        "condition_details", "Anything to add about these? (optional)", "text", max_length=2000
    ),
    Question(
        "self_harm",
        "Have you had thoughts of harming yourself or of ending your life?",
        "radio",
        tuple(choices.SELF_HARM),
    ),
    *(_yes_no(f"medicine_{code}", label) for code, label in choices.MEDICINES),
    Question(
        "medicines",
        "Every medicine taken now, with doses if you know them (optional)",
        "text",
        max_length=3000,
        hint="A photo of the prescriptions can be shown at the consult instead.",
    ),
    _yes_no("allergies", "Any allergy or severe reaction to a medicine?"),
    Question("allergy_details", "To what, and what happened? (optional)", "text", max_length=1000),
    Question(
        "pregnancy",
        "Is the patient pregnant or breastfeeding?",
        "radio",
        tuple(choices.PREGNANCY),
    ),
    _yes_no(
        "children_plans",
        "Would the patient like to have children in the future?",
        hint="Some treatments affect fertility; there may be ways to protect it first.",
    ),
    Question(
        "daily_activity",
        "Which is closest to the patient's days now?",
        "radio",
        tuple(choices.DAILY_ACTIVITY),
    ),
    Question("city", "City or town where the patient lives", "line", max_length=120),
    Question("state", "State", "line", max_length=60),
    _yes_no(
        "can_stay",
        "Could the patient travel to, and stay near, a hospital for about a week if needed?",
        hint="Some treatments, such as high-dose interleukin-2, are given in hospital over "
        "several days.",
    ),
    Question(
        "reports",
        "Which reports do you have? (choose all that apply)",
        "checkboxes",
        tuple(choices.REPORTS),
        hint="Keep them ready for the consult; the clinic will tell you how to share them.",
    ),
    Question(
        "distress",
        "How much distress have you felt in the past week, including today?",
        "radio",
        tuple(choices.DISTRESS),
        hint="0 means no distress, 10 means extreme distress.",
    ),
    Question(
        "worries",
        "Is any of these a worry at the moment? (choose any)",
        "checkboxes",
        tuple(choices.WORRIES),
    ),
    Question("check_cover", "Please check the insurance cover for me before the consult", "box"),
    Question(
        "policy_number",
        "Policy or card number",
        "line",
        required="Enter the policy or card number, so staff can check cover.",
        asked_when=_asked_to_check_cover,
        max_length=60,
        hint="Only if you asked us to check cover. It is on the insurance or scheme card.",
    ),
)

BY_NAME = {question.name: question for question in QUESTIONNAIRE}

# Sending as finished needs these; saving part-way needs none.
NEEDED_TO_FINISH = (
    "spread",
    *(f"condition_{code}" for code, _ in choices.CONDITIONS),
    "self_harm",
    "daily_activity",
    "can_stay",
    "distress",
)

# A "yes" to one of these is a condition, a medicine or a reaction the consultant must see.
ATTENTION_PREFIXES = ("condition_", "medicine_", "bad_reactions", "allergies")


def answer_rows(answers: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Every answered question in page order with its answer in words, for the staff page and
    the data download; the third value marks a "yes" the consultant must see."""
    rows = []
    for question in QUESTIONNAIRE:
        if question.name not in answers:
            continue
        value = answers[question.name]
        if isinstance(value, list):
            words = ", ".join(str(dict(question.choices).get(item, item)) for item in value)
        else:
            words = str(question.in_words(value))
        attention = value == "yes" and question.name.startswith(ATTENTION_PREFIXES)
        rows.append((question.label, words, attention))
    return rows
