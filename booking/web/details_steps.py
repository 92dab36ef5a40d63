"""The patient's details form in five short steps, one thing per page as GOV.UK's service
manual recommends for a phone: who is booking and how to reach the patient; the safety check;
the diagnosis and treatment; how care is paid for; the questions, how to meet, the agreement
and a check of every answer.

It is the same form (``BookingForm``) and the same rules, checked a step at a time: a step
shows only its own errors, and the answers so far are kept on the server
(``appointments/drafts.py``) under the browser's hold, so Back, a reload and a change of time
lose nothing. The last step sends them all, and the booking is checked whole, as before. The
front desk books a caller on one page, where the receptionist can jump between questions as
the caller talks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms.validators import ValidationError

from ..appointments.drafts import Answers
from ..core.timeutil import clinic_today
from ..intake.birth_dates import parse_birth_date
from ..intake.booking_questions import BOOKING_QUESTIONS, BY_NAME


def _in_section(section: str) -> tuple[str, ...]:
    return tuple(q.name for q in BOOKING_QUESTIONS if q.section == section)


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    # The template's sections this step shows, in their order on the one-page form.
    sections: tuple[str, ...]
    fields: tuple[str, ...]


WHO_IS_BOOKING = (
    "booked_by",
    "booker_name",
    "booker_relationship",
    "booker_email",
    "booker_phone",
    "patient_agrees",
    "relative_channel",
    "messages_to",
    "patient_in_my_zone",
    "booker_is_guardian",
)

STEPS: tuple[Step, ...] = (
    Step(
        1,
        "Who is booking, and how to reach the patient",
        ("who", "contact"),
        (
            *WHO_IS_BOOKING,
            "patient_name",
            "birth_date",
            "patient_email",
            "patient_phone",
            "preferred_channel",
        ),
    ),
    Step(2, "Safety check", ("safety",), ("red_flags",)),
    Step(
        3,
        "Diagnosis and treatment",
        ("diagnosis", "treatment"),
        (
            "therapy",
            "cancer_type",
            "cancer_type_other",
            "stage",
            "diagnosed",
            "diagnosis_details",
            *_in_section("diagnosis"),
            "treatments",
            "treatment_details",
            *_in_section("treatment"),
        ),
    ),
    Step(
        4,
        "Paying for treatment",
        ("payment",),
        (
            "payment_routes",
            "state_scheme",
            "insurer",
            "tpa",
            "policy_holder",
            "policy_after_diagnosis",
            "cost_help",
            *_in_section("payment"),
        ),
    ),
    Step(
        5,
        "Your questions, how to meet, and your agreement",
        ("questions", "mode", "consent"),
        (
            "own_questions",
            *_in_section("questions"),
            "consult_mode",
            "consent_health",
            "consent_reminders",
        ),
    ),
)
LAST = STEPS[-1].number
# Sent with every step, and kept: the chosen time, its zone, and the form's submission key.
CARRIED = ("slot", "timezone", "submission_key")
# Sent with a step but never kept: they belong to that one request.
NOT_KEPT = ("csrf_token", "action", "step", "check", "leave_blank")


def step_number(value: Any) -> int:
    """A step asked for in a link or a form: a number from 1 to 5, else 1."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return number if 1 <= number <= LAST else 1


def step_of_field(name: str) -> int | None:
    for step in STEPS:
        if name in step.fields:
            return step.number
    return None


def merged(draft: Answers, posted: MultiDict, step: Step) -> Answers:
    """The draft with this step's answers replaced by what was sent: a step's question left
    empty (an unticked box sends nothing) is emptied, and the other steps' answers are kept."""
    answers = {name: values for name, values in draft.items() if name not in step.fields}
    for name in posted:
        if name not in NOT_KEPT:
            answers[name] = posted.getlist(name)
    return answers


def as_formdata(answers: Answers, **also: str) -> MultiDict:
    """Kept answers as a form reads a request's fields, with ``also`` set on top."""
    data = MultiDict([(name, value) for name, values in answers.items() for value in values])
    for name, value in also.items():
        data.setlist(name, [value])
    return data


def as_answers(prefilled: dict[str, Any]) -> Answers:
    """Answers the form starts with (a cancelled booking's, a waitlist entry's), as kept."""
    answers: Answers = {}
    for name, value in prefilled.items():
        if value in (None, "", [], False):
            continue
        if isinstance(value, list | tuple):
            answers[name] = [str(item) for item in value]
        else:
            answers[name] = ["y" if value is True else str(value)]
    return answers


def keep_only_errors_of(form, step: Step) -> bool:
    """Clear the errors of questions on other steps (they are asked later, or were checked
    already); True when this step has none left."""
    clean = True
    for field in form:
        if field.name in step.fields:
            clean = clean and not field.errors
        elif field.name != "slot":
            field.errors = []
    return clean and not form.slot.errors


def answer_in_words(field) -> str:
    """A field's answer as the check page shows it: the words of the chosen options."""
    data = field.data
    if field.type == "BooleanField":
        return "Yes" if data else ""
    options = dict(field.choices or []) if hasattr(field, "choices") else {}
    if isinstance(data, list):
        return ", ".join(str(options.get(value, value)) for value in data)
    if options and data is not None:
        return str(options.get(data, data or ""))
    return str(data or "")


# Where the page asks a question in other words than the field's own label.
CHECK_LABELS = {"preferred_channel": "How should we contact the patient?"}


def birth_in_words(typed: str, today: date) -> str:
    """The date of birth as the form read it ("12 March 1955", "born in 1954, about 72"), so a
    family sees what "12031955" or "72" became; as typed when it cannot be read."""
    try:
        born = parse_birth_date(typed, today)
    except ValidationError:
        return typed
    exact = born.exact
    if exact:
        return f"{exact.day} {exact:%B %Y}"
    return f"born in {born.year}, about {born.age_on(today)}"


def check_rows(form) -> list[tuple[Step, list[tuple[str, str]]]]:
    """Each earlier step's answers, in words, for the check page: a question not answered, or
    not asked (a relative's details when the patient books), is left out."""
    relative = form.booked_by.data == "caregiver"
    given = {field.name: field.data for field in form}
    rows = []
    for step in STEPS[:-1]:
        answered = []
        for name in step.fields:
            if name in WHO_IS_BOOKING[1:] and not relative:
                continue
            if name in BY_NAME and not BY_NAME[name].asked(given):
                continue
            words = answer_in_words(form[name])
            if name == "birth_date":
                words = birth_in_words(words, clinic_today())
            if words:
                answered.append((CHECK_LABELS.get(name, form[name].label.text), words))
        rows.append((step, answered))
    return rows
