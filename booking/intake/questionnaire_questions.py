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


def _yes_no(
    name: str, label: str, hint: str | None = None, voices: tuple[str, str] | None = None
) -> Question:
    return Question(name, label, "radio", tuple(choices.YES_NO_UNSURE), hint=hint, voices=voices)


def _asked_to_check_cover(answers) -> bool:
    return bool(answers.get("check_cover"))


def _has_had_immunotherapy(answers) -> bool:
    return bool(set(answers.get("earlier_immunotherapy") or ()) & IMMUNOTHERAPY_THAT_MATTERS)


def _spread_to_brain(answers) -> bool:
    return "brain" in (answers.get("spread") or ())


def _takes_steroids(answers) -> bool:
    return answers.get("medicine_steroids") == "yes"


# Earlier immunotherapy that changes what can be offered next.
IMMUNOTHERAPY_THAT_MATTERS = {"checkpoint", "interleukin2", "interferon"}

QUESTIONNAIRE: tuple[Question, ...] = (
    Question(
        "filled_by",
        "Who is filling this in?",
        "radio",
        tuple(choices.WHO_FILLS_IN),
        hint="The questions then speak to you, or name the patient.",
    ),
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
        voices=("Have you ever had any of these?", "Has {patient} ever had any of these?"),
    ),
    Question(
        "last_immunotherapy",
        "When was the last dose? (optional)",
        "line",
        asked_when=_has_had_immunotherapy,
        show_when="earlier_immunotherapy=" + ",".join(sorted(IMMUNOTHERAPY_THAT_MATTERS)),
        max_length=40,
        hint="Month and year are enough, for example March 2026.",
    ),
    Question(
        "immune_side_effects",
        "Did it cause any of these? (choose all that apply)",
        "checkboxes",
        tuple(choices.IMMUNE_SIDE_EFFECTS),
        asked_when=_has_had_immunotherapy,
        show_when="earlier_immunotherapy=" + ",".join(sorted(IMMUNOTHERAPY_THAT_MATTERS)),
        hint="Some of them can come back with another immunotherapy.",
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
    Question(
        "brain_treated",
        "Has the spread to the brain been treated?",
        "radio",
        tuple(choices.BRAIN_TREATED),
        asked_when=_spread_to_brain,
        show_when="spread=brain",
    ),
    # One Yes / No / Not sure question per condition, named condition_<code>.
    *(_yes_no(f"condition_{code}", label) for code, label in choices.CONDITIONS),
    Question(
        "condition_details", "Anything to add about these? (optional)", "text", max_length=2000
    ),
    Question(
        "self_harm",
        "Has the patient had thoughts of self-harm or of ending their life?",
        "radio",
        tuple(choices.SELF_HARM),
        voices=(
            "Have you had thoughts of harming yourself or of ending your life?",
            "Has {patient} had thoughts of self-harm or of ending their life?",
        ),
    ),
    *(_yes_no(f"medicine_{code}", label) for code, label in choices.MEDICINES),
    Question(
        "steroid_dose",
        "Which steroid, and how much each day? (optional)",
        "line",
        asked_when=_takes_steroids,
        show_when="medicine_steroids=yes",
        max_length=200,
        hint="For example: dexamethasone 4 mg twice a day. The prescription will do.",
    ),
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
        voices=("Are you pregnant or breastfeeding?", "Is {patient} pregnant or breastfeeding?"),
    ),
    _yes_no(
        "children_plans",
        "Would the patient like to have children in the future?",
        hint="Some treatments affect fertility; there may be ways to protect it first.",
        voices=(
            "Would you like to have children in the future?",
            "Would {patient} like to have children in the future?",
        ),
    ),
    Question(
        "daily_activity",
        "Which is closest to the patient's days now?",
        "radio",
        tuple(choices.DAILY_ACTIVITY),
        voices=(
            "Which is closest to your days now?",
            "Which is closest to {patient}'s days now? (the answers are in the patient's words)",
        ),
    ),
    Question(
        "tobacco",
        "Does the patient use tobacco, smoked or chewed?",
        "radio",
        tuple(choices.TOBACCO),
        hint="Cigarettes, bidis, hookah, gutkha, khaini, or paan with tobacco.",
        voices=(
            "Do you use tobacco, smoked or chewed?",
            "Does {patient} use tobacco, smoked or chewed?",
        ),
    ),
    Question(
        "alcohol",
        "Does the patient drink alcohol?",
        "radio",
        tuple(choices.ALCOHOL),
        hint="Some treatments strain the liver; the consultant asks everyone.",
        voices=("Do you drink alcohol?", "Does {patient} drink alcohol?"),
    ),
    Question(
        "city",
        "City or town where the patient lives",
        "line",
        max_length=120,
        voices=("City or town where you live", "City or town where {patient} lives"),
    ),
    Question("state", "State", "line", max_length=60),
    _yes_no(
        "can_stay",
        "Could the patient travel to, and stay near, a hospital for about a week if needed?",
        hint="Some treatments, such as high-dose interleukin-2, are given in hospital over "
        "several days.",
        voices=(
            "Could you travel to, and stay near, a hospital for about a week if needed?",
            "Could {patient} travel to, and stay near, a hospital for about a week if needed?",
        ),
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
        "How much distress has the patient felt in the past week, including today?",
        "radio",
        tuple(choices.DISTRESS),
        hint="0 means no distress, 10 means extreme distress.",
        voices=(
            "How much distress have you felt in the past week, including today?",
            "How much distress has {patient} felt in the past week, including today, as far "
            "as you can tell?",
        ),
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

# Questions an earlier questionnaire asked: answers that hold them keep them, and the staff
# page and the data download still show them.
EARLIER_QUESTIONS: tuple[Question, ...] = tuple(
    _yes_no(f"condition_{code}", label) for code, label in choices.CONDITIONS_EARLIER
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


def kept_from_earlier(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers to questions the form no longer asks, which a new save keeps."""
    return {q.name: answers[q.name] for q in EARLIER_QUESTIONS if q.name in answers}


def answer_rows(answers: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """Every answered question in page order with its answer in words, for the staff page and
    the data download; the third value marks a "yes" the consultant must see."""
    rows = []
    for question in (*QUESTIONNAIRE, *EARLIER_QUESTIONS):
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
