"""The consultant's one-screen summary of a booking: could this patient be a candidate for the
therapy they ask about, and what is still missing before that can be judged.

It reads the booking form's answers and the questionnaire's; it decides nothing. "Needs care"
items are the answers a consultant must look at first (a "yes" to a condition that can make
cytokine therapy unsafe, spread to the brain, daily activity limited to bed or chair most of the
day, pregnancy); "missing" items are what the consult cannot go without.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from ..core.models import Appointment
from . import choices
from .health_questionnaire import answers_of
from .health_questionnaire import state as questionnaire_state
from .questionnaire_questions import IMMUNOTHERAPY_THAT_MATTERS
from .safety import BEFORE_CHECKLIST, Guidance, appointment_guidance, severity

# High-dose IL-2 and most cytokine trials ask for ECOG 0-1; from ECOG 2 the consultant should
# look first.
LIMITED_ACTIVITY = {"2", "3", "4"}
BRAIN_TREATED_IN_SHORT = {
    "treated": "treated",
    "not_yet": "not treated yet",
    "not_sure": "not sure whether treated",
}


@dataclass
class Line:
    label: str
    value: str
    attention: bool = False


@dataclass
class Summary:
    lines: list[Line]
    needs_care: list[str] = field(default_factory=list)
    not_sure: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


def _labels(options, codes) -> str:
    return ", ".join(choices.label(options, code) for code in codes) or "—"


def age_text(appointment: Appointment, today: date) -> str:
    born = appointment.intake.born
    if born is None:
        return "Not asked (booked before the form asked)"
    return born.in_words(today)


def consultant_summary(appointment: Appointment, today: date) -> Summary:
    answers = answers_of(appointment.questionnaire)
    needs_care, not_sure = what_needs_care(answers, appointment.intake.treatment_list)
    return Summary(
        summary_lines(appointment, answers, today),
        needs_care,
        not_sure,
        what_is_missing(appointment, answers, questionnaire_state(appointment)),
    )


def what_needs_care(answers: dict, treatments: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """The questionnaire's answers a consultant must look at first, one rule each, with the
    steroids and the transplant ticked as current treatment on the booking form; and the
    conditions the patient was not sure about."""
    needs_care: list[str] = []
    not_sure: list[str] = []
    for code, words in (*choices.CONDITIONS, *choices.CONDITIONS_EARLIER):
        answer = answers.get(f"condition_{code}")
        if answer == "yes" or (code == "transplant" and "transplant" in treatments):
            needs_care.append(words)
        elif answer == "not_sure":
            not_sure.append(words)
    if "brain" in answers.get("spread", []):
        treated = BRAIN_TREATED_IN_SHORT.get(answers.get("brain_treated") or "")
        needs_care.append("Spread to the brain" + (f" ({treated})" if treated else ""))
    activity = answers.get("daily_activity")
    if activity in LIMITED_ACTIVITY:
        needs_care.append(f"Daily activity limited (ECOG {activity})")
    if answers.get("pregnancy") in {"pregnant", "breastfeeding"}:
        needs_care.append(choices.label(choices.PREGNANCY, answers["pregnancy"]))
    if answers.get("medicine_steroids") == "yes" or "steroids" in treatments:
        dose = answers.get("steroid_dose")
        needs_care.append(f"Takes steroids: {dose}" if dose else "Takes steroids")
    earlier = answers.get("earlier_immunotherapy", [])
    if set(earlier) & IMMUNOTHERAPY_THAT_MATTERS:
        line = "Has had: " + _labels(choices.EARLIER_IMMUNOTHERAPY, earlier)
        if last := answers.get("last_immunotherapy"):
            line += f" (last dose {last})"
        needs_care.append(line)
    side_effects = set(answers.get("immune_side_effects", [])) - {"none", "not_sure"}
    if side_effects:
        codes = [code for code, _ in choices.IMMUNE_SIDE_EFFECTS if code in side_effects]
        needs_care.append(
            "Immune side effects before: " + _labels(choices.IMMUNE_SIDE_EFFECTS, codes)
        )
    if answers.get("bad_reactions") == "yes":
        needs_care.append("A bad reaction to an earlier cancer treatment")
    if answers.get("tobacco") == "now":
        needs_care.append("Uses tobacco now")
    if answers.get("alcohol") == "most_days":
        needs_care.append("Drinks alcohol on most days")
    return needs_care, not_sure


def what_is_missing(appointment: Appointment, answers: dict, state: str) -> list[str]:
    """What the consult cannot go without."""
    intake = appointment.intake
    missing: list[str] = []
    if state != "done":
        missing.append(
            "Health questionnaire not sent"
            if state == "not_yet"
            else "Health questionnaire started, not sent"
        )
    if intake.stage == "unknown":
        missing.append("Stage not known")
    if intake.birth_date is None:
        missing.append("Age")
    reports = answers.get("reports", [])
    if state != "not_yet" and ("none" in reports or "biopsy" not in reports):
        missing.append("Biopsy or histopathology report")
    return missing


def red_flags_text(appointment: Appointment) -> str:
    flags = appointment.intake.red_flag_list
    if flags:
        return _labels(choices.RED_FLAG_WORDS, flags)
    return BEFORE_CHECKLIST[True] if appointment.urgent else "—"


def call_back_text(appointment: Appointment, guidance: Guidance) -> str:
    case = appointment.urgent_case
    if case is None:
        return "Not needed"
    if case.closed_at is None:
        return "Waiting: " + severity(guidance, appointment.intake.red_flag_list)[1]
    return "Done"


def follow_up_line(appointment: Appointment) -> Line | None:
    questionnaire = appointment.questionnaire
    if questionnaire is None or not questionnaire.follow_up:
        return None
    done = questionnaire.follow_up_done_at is not None
    reasons = _labels(choices.FOLLOW_UP_REASONS, questionnaire.follow_up.split(","))
    return Line(
        "Follow-up", reasons + (" (followed up)" if done else " (not yet called)"), not done
    )


def summary_lines(appointment: Appointment, answers: dict, today: date) -> list[Line]:
    """The one-screen lines, each marked when the consultant should look at it."""
    intake = appointment.intake
    spread = answers.get("spread", [])
    activity = answers.get("daily_activity")
    distress = answers.get("distress")
    cancer = choices.label(choices.CANCER_TYPES, intake.cancer_type)
    if intake.cancer_type_other:
        cancer += f": {intake.cancer_type_other}"
    guidance = appointment_guidance(appointment)
    call_back = call_back_text(appointment, guidance)
    lines = [
        Line("Age", age_text(appointment, today), intake.birth_date is None),
        Line("Cancer", f"{cancer}, {choices.label(choices.STAGES, intake.stage)}"),
        Line("Spread", _labels(choices.SPREAD, spread) if spread else "Not answered yet"),
        Line(
            "Asking about",
            choices.label(choices.THERAPIES, intake.therapy) if intake.therapy else "Not asked",
        ),
        Line(
            "Daily activity",
            f"{choices.label(choices.DAILY_ACTIVITY, activity)} (ECOG {activity})"
            if activity
            else "Not answered yet",
            activity in LIMITED_ACTIVITY,
        ),
        Line("Paying by", _payment_text(appointment), intake.cost_help),
        Line(
            "Distress (0-10)",
            distress if distress is not None else "Not answered yet",
            distress is not None and int(distress) >= choices.DISTRESS_FOLLOW_UP,
        ),
        Line("Red flags", red_flags_text(appointment), bool(guidance.urgent)),
        Line("Call-back", call_back, call_back.startswith("Waiting")),
    ]
    if follow_up := follow_up_line(appointment):
        lines.append(follow_up)
    if appointment.booked_by == "caregiver":
        agrees = choices.label(choices.PATIENT_AGREES, appointment.patient_agrees or "")
        lines.append(
            Line("Patient agrees", agrees or "Not asked", appointment.patient_agrees != "yes")
        )
    return lines


def _payment_text(appointment: Appointment) -> str:
    intake = appointment.intake
    routes = intake.payment_route_list
    if not routes:
        return "Insurance: " + choices.label(choices.YES_NO_UNSURE, intake.has_insurance)
    text = _labels(choices.PAYMENT_ROUTES, routes)
    if intake.cost_help:
        text += "; asks for help with costs"
    return text
