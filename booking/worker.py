"""The worker: APScheduler is the clock, the database is the truth.

``flask --app booking worker`` runs a ``BlockingScheduler`` with interval jobs. Never start a
scheduler inside gunicorn workers (each would run every job). Claims are atomic, so two worker
processes are safe, and a restart loses nothing: due rows are simply picked up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask, current_app

from .appointments.drafts import clear_expired_drafts
from .appointments.waitlist import forget_pending, make_offers
from .core.statuses import MessageKind
from .core.timeutil import now_utc
from .core.worker_health import ESCALATIONS, REMINDERS, allowed_gap, beat
from .extensions import db
from .intake.urgent_call_backs import escalate_waiting
from .messages.outbox import dispatch_outbox, queue_message
from .messages.reminders import queue_due_reminders
from .privacy.retention import apply_retention
from .scheduling.holds import clear_all_expired
from .staff_accounts.lockout import clear_old_failures

log = logging.getLogger(__name__)

JOB_DEFAULTS = {
    # A run that was late (the machine slept, the previous run was slow) still happens, once.
    "coalesce": True,
    "misfire_grace_time": None,
    "max_instances": 1,
}


# One sender per process: the reminder and escalation jobs also send what they queued, and
# without this they would run beside the dispatch job, each holding a batch a kill would resend.
SENDING = threading.Lock()


def run_dispatch(app: Flask) -> None:
    """Send due emails until none are left or a batch makes no progress. When this process is
    already sending, return: that run picks up what is due."""
    if not SENDING.acquire(blocking=False):
        return
    try:
        with app.app_context():
            try:
                while True:
                    report = dispatch_outbox(db.session)
                    if report.claimed == 0 or report.sent == 0:
                        break
            except Exception:
                log.exception("outbox dispatch failed; it will run again")
                db.session.rollback()
            finally:
                db.session.remove()
    finally:
        SENDING.release()


def _in_app(app: Flask, job: str, work: Callable[[], object]) -> None:
    """One job's database work in an app context. A failure is logged and rolled back; the
    job simply runs again at its next turn."""
    with app.app_context():
        try:
            work()
        except Exception:
            log.exception("%s failed; it will run again", job)
            db.session.rollback()
        finally:
            db.session.remove()


def _reminders_holds_and_offers() -> None:
    while queue_due_reminders(db.session, now_utc()).claimed:
        pass
    clear_all_expired(db.session, now_utc())
    clear_expired_drafts(db.session, now_utc())
    clear_old_failures(db.session, now_utc())
    forget_pending(db.session, now_utc())
    make_offers(db.session, now_utc())
    # Last: a run that failed part way does not count as a run (the staff page says so).
    beat(db.session, REMINDERS, now_utc())
    db.session.commit()


def _escalations() -> None:
    _say_if_the_worker_was_away(now_utc())
    while escalate_waiting(db.session, now_utc()):
        pass


def _say_if_the_worker_was_away(now: datetime) -> None:
    """The escalation job's own check: when its previous run is longer ago than it allows,
    the worker was down (or the machine slept), and urgent escalations may have gone late:
    the escalation addresses are told, once, as it comes back."""
    config = current_app.config
    before = beat(db.session, ESCALATIONS, now)
    if before is not None and now - before > allowed_gap(config["URGENT_CHECK_INTERVAL"]):
        log.warning("the worker did not run for %s", now - before)
        for recipient in config["URGENT_ESCALATION_EMAILS"]:
            queue_message(
                db.session,
                MessageKind.STAFF_WORKER_LATE,
                recipient,
                now,
                stopped=before.isoformat(),
                back=now.isoformat(),
            )
    db.session.commit()


def run_reminders(app: Flask) -> None:
    """Queue every reminder that is due, batch by batch, then send what was queued. Expired
    holds are swept, and free times offered to the waitlist, on the same schedule."""
    _in_app(app, "queueing reminders", _reminders_holds_and_offers)
    run_dispatch(app)


def run_urgent_escalations(app: Flask) -> None:
    """Escalate every urgent call-back nobody has acknowledged in time, then send the emails."""
    _in_app(app, "urgent escalation", _escalations)
    run_dispatch(app)


def run_retention(app: Flask) -> None:
    """Erase what is past the retention limit (daily by default)."""
    _in_app(app, "the retention job", lambda: apply_retention(db.session, now_utc()))


JOBS = (
    (run_dispatch, "OUTBOX_INTERVAL"),
    (run_reminders, "REMINDER_INTERVAL"),
    (run_urgent_escalations, "URGENT_CHECK_INTERVAL"),
    (run_retention, "RETENTION_INTERVAL"),
)


def add_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """The worker's jobs, all starting at once (a restart catches up immediately)."""
    for job, interval in JOBS:
        scheduler.add_job(
            job,
            "interval",
            args=[app],
            seconds=app.config[interval].total_seconds(),
            id=job.__name__,
            next_run_time=now_utc(),
        )
