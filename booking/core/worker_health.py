"""Whether the worker is running: each job records when it ran, and the staff home page,
``/healthz`` and the escalation job read it.

Reminders, urgent escalations and every message rest on the worker. When its process died,
nothing went out and nothing said so; now a late worker shows in red to staff and in the
health check, and the escalation job emails the escalation addresses when it finds that it
did not run for longer than it should have.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import Session
from .models import WorkerHeartbeat

# The job whose runs the staff page and the health check watch: it queues the reminders.
REMINDERS = "reminders"
ESCALATIONS = "escalations"
# A job this many periods late is late (never less than LATE_AT_LEAST): one slow run, or a
# restart, is not worth a red line.
LATE_AFTER_PERIODS = 2
LATE_AT_LEAST = timedelta(minutes=2)


def beat(session: Session, job: str, now: datetime) -> datetime | None:
    """Record that ``job`` runs now; return when it ran before (None the first time). The
    caller commits."""
    row = session.get(WorkerHeartbeat, job)
    before = row.last_run_at if row is not None else None
    if row is None:
        session.add(WorkerHeartbeat(job=job, last_run_at=now))
    else:
        row.last_run_at = now
    return before


def last_run(session: Session, job: str = REMINDERS) -> datetime | None:
    return session.scalar(sa.select(WorkerHeartbeat.last_run_at).where(WorkerHeartbeat.job == job))


def allowed_gap(period: timedelta) -> timedelta:
    return max(period * LATE_AFTER_PERIODS, LATE_AT_LEAST)


def worker_late_by(session: Session, now: datetime) -> timedelta | None:
    """How long ago the reminders job last ran, when that is longer than it should be
    (``timedelta.max`` when it never ran); None while the worker keeps time."""
    return late_by(last_run(session), now)


def late_by(ran: datetime | None, now: datetime) -> timedelta | None:
    """``worker_late_by`` for a last run already read."""
    if ran is None:
        return timedelta.max
    since = now - ran
    return since if since > allowed_gap(current_app.config["REMINDER_INTERVAL"]) else None
