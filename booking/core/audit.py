"""Audit events: who did what to which appointment, and from where. Never the health data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ..extensions import Session
from .models import Appointment, AuditEvent
from .statuses import ActorKind


@dataclass(frozen=True)
class Actor:
    """Who is making a change, handed through the domain functions to the audit event (and,
    for staff, to what they author): their kind, the staff user, and the client's address."""

    kind: ActorKind
    staff_user_id: int | None = None
    ip_address: str | None = None
    # For a change made through a manage link: whose message carried it (statuses.Reader), so
    # staff and the other reader are told who made it. Empty when not known.
    reader: str | None = None

    @classmethod
    def patient(cls, ip_address: str | None = None, reader: str | None = None) -> Actor:
        """The patient's side: the patient, or the relative who booked for them (``reader``)."""
        return cls(ActorKind.PATIENT, None, ip_address, reader)

    @classmethod
    def staff(cls, staff_user_id: int, ip_address: str | None = None) -> Actor:
        return cls(ActorKind.STAFF, staff_user_id, ip_address)

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorKind.SYSTEM)

    @property
    def is_staff(self) -> bool:
        return self.kind == ActorKind.STAFF


def record(
    session: Session,
    action: str,
    now: datetime,
    actor: Actor,
    *,
    appointment: Appointment | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add one event to the caller's transaction, so it is kept exactly when the change is."""
    event = AuditEvent(appointment=appointment, **event_values(action, now, actor, detail))
    session.add(event)
    return event


def event_values(action: str, now: datetime, actor: Actor, detail: str | None = None) -> dict:
    """An event's columns but its appointment (shared with the booking's Core insert)."""
    return {
        "at": now,
        "actor": actor.kind,
        "action": action,
        "staff_user_id": actor.staff_user_id,
        "ip_address": (actor.ip_address or "")[:45] or None,
        "detail": detail[:200] if detail else None,
    }
