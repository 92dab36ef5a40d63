"""The pre-consult health questionnaire: saving it part-way or finished, and what its answers
mean for the people who act on them.

The patient (or the caregiver) fills it in after booking, with the manage link, and may change
it until the consult starts. All answers are one encrypted JSON document; only the state
(started / done) and the follow-up reason codes are plain, so staff lists can show and filter
them without decrypting anything.

Two answers ask staff to call: distress of 4 or more on the 0-10 scale, and thoughts of
self-harm. Recent or present self-harm thoughts also join the booking's red flags and open the
urgent call-back loop (with its escalation emails), as the same answer on the booking form does.
"""

from __future__ import annotations

import json
from datetime import datetime

from ..core import audit
from ..core.audit import Actor
from ..core.models import Appointment, Questionnaire, StaffUser
from ..core.statuses import AppointmentStatus, QuestionnaireStatus
from ..extensions import Session
from . import choices
from .questionnaire_questions import kept_from_earlier
from .urgent_call_backs import acknowledge_period, open_case

# Answers that show the crisis line at once, and ask staff to follow up.
SELF_HARM_ANSWERS = {"now", "past", "rather_talk"}


class QuestionnaireClosed(Exception):
    """The consult has started (or is no longer confirmed): the answers can no longer change."""


def answers_of(questionnaire: Questionnaire | None) -> dict:
    return json.loads(questionnaire.answers) if questionnaire else {}


def state(appointment: Appointment) -> str:
    """``done``, ``started`` or ``not_yet``: what staff read in lists."""
    questionnaire = appointment.questionnaire
    return questionnaire.status if questionnaire else "not_yet"


def can_edit(appointment: Appointment, now: datetime) -> bool:
    return appointment.status == AppointmentStatus.CONFIRMED and appointment.starts_at > now


def follow_up_reasons(answers: dict) -> list[str]:
    """Why staff should call, as codes in the order of ``choices.FOLLOW_UP_REASONS``."""
    reasons = set()
    if answers.get("self_harm") in SELF_HARM_ANSWERS:
        reasons.add("self_harm")
    distress = answers.get("distress")
    if distress not in (None, "") and int(distress) >= choices.DISTRESS_FOLLOW_UP:
        reasons.add("distress")
    return [code for code, _ in choices.FOLLOW_UP_REASONS if code in reasons]


def shows_crisis_line(answers: dict) -> bool:
    return answers.get("self_harm") in SELF_HARM_ANSWERS


def save(
    session: Session,
    appointment: Appointment,
    answers: dict,
    finished: bool,
    now: datetime,
    actor: Actor,
) -> Questionnaire:
    """Store the answers (replacing earlier ones, but keeping those to questions no longer
    asked) and raise any follow-up. The caller commits.

    A reason that is new since staff last recorded a follow-up asks for one again; a reason
    that was already followed up does not."""
    if not can_edit(appointment, now):
        raise QuestionnaireClosed()
    questionnaire = appointment.questionnaire
    # An answer to a question the form no longer asks is not the patient's to lose by saving.
    answers = {**kept_from_earlier(answers_of(questionnaire)), **answers}
    if questionnaire is None:
        questionnaire = Questionnaire(started_at=now, status=QuestionnaireStatus.STARTED)
        appointment.questionnaire = questionnaire
    questionnaire.answers = json.dumps(answers, ensure_ascii=False, sort_keys=True)
    questionnaire.updated_at = now
    if finished:
        questionnaire.status = QuestionnaireStatus.DONE
        questionnaire.completed_at = questionnaire.completed_at or now

    reasons = follow_up_reasons(answers)
    before = set((questionnaire.follow_up or "").split(",")) - {""}
    if set(reasons) - before:
        questionnaire.follow_up_done_at = None
        questionnaire.follow_up_done_by_id = None
    questionnaire.follow_up = ",".join(reasons) or None
    if answers.get("self_harm") == "now":
        _raise_urgent_self_harm(appointment, now)

    action = "questionnaire_sent" if finished else "questionnaire_saved"
    audit.record(session, action, now, actor, appointment=appointment)
    return questionnaire


def _raise_urgent_self_harm(appointment: Appointment, now: datetime) -> None:
    """Add self-harm to the red flags and put the booking on the call-back list, unless a
    call-back for it is already waiting."""
    intake = appointment.intake
    flags = [code for code in intake.red_flag_list if code != choices.NO_RED_FLAGS]
    if "self_harm" not in flags:
        intake.red_flags = ",".join([*flags, "self_harm"])
    appointment.urgent = True
    case = appointment.urgent_case
    if case is None:
        open_case(appointment, now)
    elif case.closed_at is not None and "self_harm" not in flags:
        case.closed_at = None
        case.closed_by_id = None
        case.next_escalation_at = now + acknowledge_period()


def record_follow_up(
    session: Session, appointment: Appointment, staff: StaffUser, now: datetime, actor: Actor
) -> bool:
    """Staff called about the questionnaire's answers. False when nothing was waiting."""
    questionnaire = appointment.questionnaire
    if questionnaire is None or not questionnaire.needs_follow_up:
        return False
    questionnaire.follow_up_done_at = now
    questionnaire.follow_up_done_by_id = staff.id
    audit.record(session, "questionnaire_followed_up", now, actor, appointment=appointment)
    return True
