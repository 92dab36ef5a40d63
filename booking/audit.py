"""Audit events: who did what to which appointment, and from where. Never the health data."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy.orm as so

from .models import Appointment, AuditEvent


def record(
    session: so.Session,
    action: str,
    now: datetime,
    *,
    actor: str,
    appointment: Appointment | None = None,
    staff_user_id: int | None = None,
    ip_address: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add one event to the caller's transaction, so it is kept exactly when the change is."""
    event = AuditEvent(
        at=now,
        actor=actor,
        action=action,
        appointment=appointment,
        staff_user_id=staff_user_id,
        ip_address=(ip_address or "")[:45] or None,
        detail=detail[:200] if detail else None,
    )
    session.add(event)
    return event
