"""The retention job: personal data is not kept longer than the privacy notice says.

Once a day the worker erases every booking whose consult ended (or which was cancelled) more
than ``RETENTION_DAYS`` ago, as privacy/erasure.py does for a patient's request, audited as done
by the system. Bookings are taken in batches by setting ``erased_at`` (core/due_rows.py), so
two workers never erase one twice and a run that dies part-way loses nothing: the rest are
still due tomorrow. Waitlist entries go the same number of days after they ended (or were
made, if still waiting), and audit events, which hold no health data, after
``AUDIT_RETENTION_DAYS``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from flask import current_app

from ..core.audit import Actor
from ..core.due_rows import take_due
from ..core.models import Appointment, AuditEvent, WaitlistEntry
from ..core.statuses import AppointmentStatus
from ..extensions import Session
from .erasure import erase_claimed

log = logging.getLogger(__name__)

BATCH = 100


@dataclass
class RetentionReport:
    erased: int = 0
    waitlist_removed: int = 0
    audit_events_removed: int = 0


def past_retention(cutoff: datetime):
    """Bookings whose data is still held and whose consult ended, or which was cancelled,
    before ``cutoff``."""
    cancelled = Appointment.status == AppointmentStatus.CANCELLED
    return sa.and_(
        Appointment.erased_at.is_(None),
        sa.or_(
            sa.and_(cancelled, Appointment.cancelled_at < cutoff),
            sa.and_(~cancelled, Appointment.ends_at < cutoff),
        ),
    )


def erase_batch(session: Session, now: datetime, limit: int = BATCH) -> int:
    """Claim and erase up to ``limit`` bookings past the limit, in one transaction."""
    cutoff = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    ids = take_due(
        session,
        Appointment,
        due=past_retention(cutoff),
        order_by=(Appointment.id,),
        limit=limit,
        values={"erased_at": now},
    )
    for appointment in session.scalars(sa.select(Appointment).where(Appointment.id.in_(ids))):
        erase_claimed(session, appointment, now, Actor.system(), "retention")
    session.commit()
    return len(ids)


def _delete(session: Session, statement) -> int:
    count = cast(sa.CursorResult, session.execute(statement)).rowcount
    session.commit()
    return count


def apply_retention(session: Session, now: datetime) -> RetentionReport:
    """The daily run: erase what is due, batch by batch, then the old waitlist entries and
    audit events."""
    report = RetentionReport()
    while erased := erase_batch(session, now):
        report.erased += erased
    cutoff = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    old_entries = sa.select(WaitlistEntry).where(
        sa.func.coalesce(WaitlistEntry.ended_at, WaitlistEntry.created_at) < cutoff
    )
    for entry in session.scalars(old_entries):
        session.delete(entry)  # its offers go with it
        report.waitlist_removed += 1
    session.commit()
    audit_cutoff = now - timedelta(days=current_app.config["AUDIT_RETENTION_DAYS"])
    report.audit_events_removed = _delete(
        session, sa.delete(AuditEvent).where(AuditEvent.at < audit_cutoff)
    )
    if report.erased or report.waitlist_removed or report.audit_events_removed:
        log.info("retention: %s", report)
    return report
