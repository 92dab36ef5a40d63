"""The urgent call-back loop: a booking with a red flag waits on a staff list until someone has
called the patient and said so, and the worker escalates by email while nobody does.

A case opens in the booking's own transaction. "Could not reach" keeps it open and gives the
desk one more period before the next escalation; "reached and advised" or "sent to emergency"
closes it. A cancelled consult keeps its case open: the call is about the symptoms, not the
consult.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from ..core import audit
from ..core.audit import Actor
from ..core.due_rows import take_due
from ..core.models import Appointment, CallBack, UrgentCase
from ..core.statuses import CallBackOutcome, MessageKind
from ..extensions import Session
from ..messages.outbox import queue_message
from . import choices
from .safety import appointment_guidance, severity

log = logging.getLogger(__name__)

CLOSING_OUTCOMES = {CallBackOutcome.REACHED, CallBackOutcome.EMERGENCY}


def acknowledge_period() -> timedelta:
    return timedelta(minutes=current_app.config["URGENT_ACK_MINUTES"])


def open_case(appointment: Appointment, now: datetime) -> UrgentCase:
    """Put an urgent booking on the call-back list, in the booking's transaction."""
    case = UrgentCase(**new_case_values(now))
    appointment.urgent_case = case
    return case


def new_case_values(now: datetime) -> dict:
    """A new call-back case's columns but its appointment (shared with the booking's insert)."""
    return {"raised_at": now, "next_escalation_at": now + acknowledge_period(), "escalations": 0}


class CallBackRefused(Exception):
    """The booking has no open call-back (never urgent, or already closed)."""


def record_call_back(
    session: Session,
    appointment: Appointment,
    outcome: str,
    note: str | None,
    now: datetime,
    actor: Actor,
) -> CallBack:
    """Record one call to the patient. The caller commits."""
    case = appointment.urgent_case
    if case is None or case.closed_at is not None:
        raise CallBackRefused("This booking has no call-back waiting.")
    if outcome not in set(CallBackOutcome):
        raise CallBackRefused("Choose how the call went.")
    call = CallBack(at=now, staff_user_id=actor.staff_user_id, outcome=outcome, note=note or None)
    case.calls.append(call)
    if outcome in CLOSING_OUTCOMES:
        case.closed_at = now
        case.closed_by_id = actor.staff_user_id
        case.next_escalation_at = None
    else:
        # Someone is on it: the next escalation waits one more period from this attempt.
        case.next_escalation_at = now + acknowledge_period()
    audit.record(
        session,
        "called_back",
        now,
        actor,
        appointment=appointment,
        detail=choices.label(choices.CALL_BACK_OUTCOMES, outcome),
    )
    return call


@dataclass
class Waiting:
    """An open call-back as the staff home page lists it."""

    case: UrgentCase
    severity: str


def waiting_cases(session: Session) -> list[Waiting]:
    """Open call-backs whatever the consult's date: those needing help now first, then the
    oldest first."""
    cases = session.scalars(
        sa.select(UrgentCase)
        .where(UrgentCase.closed_at.is_(None))
        .options(
            so.joinedload(UrgentCase.appointment).joinedload(Appointment.intake),
            so.selectinload(UrgentCase.calls),
        )
        .order_by(UrgentCase.raised_at, UrgentCase.id)
    )
    ranked = [
        (
            severity(appointment_guidance(case.appointment), case.appointment.intake.red_flag_list),
            case,
        )
        for case in cases
    ]
    ranked.sort(key=lambda pair: pair[0][0])  # stable: oldest first within each rank
    return [Waiting(case, words) for (_, words), case in ranked]


def escalate_waiting(session: Session, now: datetime, limit: int = 50) -> int:
    """Email the escalation addresses about each case nobody has acknowledged in time.

    The claim moves the case's next escalation one period on, and the emails are written in the
    same transaction, so each period sends one email per address however many workers run.
    """
    period = acknowledge_period()
    due = sa.and_(
        UrgentCase.closed_at.is_(None),
        UrgentCase.next_escalation_at.is_not(None),
        UrgentCase.next_escalation_at <= now,
    )
    ids = take_due(
        session,
        UrgentCase,
        due,
        (UrgentCase.next_escalation_at, UrgentCase.id),
        limit,
        {"next_escalation_at": now + period, "escalations": UrgentCase.escalations + 1},
    )
    if not ids:
        session.rollback()
        return 0
    cases = session.scalars(
        sa.select(UrgentCase)
        .where(UrgentCase.id.in_(ids))
        .options(so.joinedload(UrgentCase.appointment))
    ).all()
    for case in cases:
        for recipient in current_app.config["URGENT_ESCALATION_EMAILS"]:
            queue_message(
                session,
                MessageKind.URGENT_ESCALATION,
                recipient,
                now,
                case.appointment,
                raised_at=case.raised_at,
            )
        log.warning("urgent call-back for %s escalated", case.appointment.reference)
    session.commit()
    return len(ids)
