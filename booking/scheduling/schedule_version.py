"""The schedule's version: what the free-time cache is keyed on.

Every transaction that changes which times are free (a booking, a hold, a cancellation, a
move, a reassignment, weekly hours, time off, a consultant's account) bumps a version row in
the same transaction, from a session hook, so no code path can forget it. There is one row per
consultant (and one for clinic-wide changes), not one for everything: two bookings with
different consultants do not wait for each other's commit on PostgreSQL.

Reading the version is one query over those few rows: the number of rows and the sum of their
versions, which only ever grows while the rows stay.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from sqlalchemy import event

from ..core.models import Appointment, ScheduleVersion, SlotClaim, StaffUser, TimeOff, WeeklyHours

CLINIC = 0  # the row for clinic-wide changes (hours, time off, accounts)

BUMP = sa.text(
    "INSERT INTO schedule_version (scope, version) VALUES (:scope, 1) "
    "ON CONFLICT (scope) DO UPDATE SET version = schedule_version.version + 1"
)


def schedule_version(session) -> tuple[int, int]:
    count, total = session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(ScheduleVersion.version), 0))
    ).one()
    return int(count), int(total)


def bump(session, scopes: set[int]) -> None:
    """Raise the version of these scopes, in the caller's transaction (in a fixed order, so
    two transactions never wait for each other's rows in opposite orders)."""
    bump_on(session.connection(), scopes)


def bump_on(connection: sa.Connection, scopes: set[int]) -> None:
    """The same on a connection (a booking written with Core statements)."""
    for scope in sorted(scopes):
        connection.execute(BUMP, {"scope": scope})


def _consultants(obj) -> set[int]:
    """The consultants whose time an appointment or claim occupies, before and after."""
    history = so.attributes.get_history(obj, "consultant_id")
    ids = {obj.consultant_id, *history.deleted, *history.added}
    consultant = getattr(obj, "consultant", None) if isinstance(obj, Appointment) else None
    if consultant is not None:
        ids.add(consultant.id)
    return {consultant_id for consultant_id in ids if consultant_id}


def _takes_consults_changed(session, user: StaffUser) -> bool:
    """A new or removed consultant, or one switched on or off; not a sign-in's counters."""
    if user in session.new or user in session.deleted:
        return bool(user.is_consultant)
    return any(
        so.attributes.get_history(user, name).has_changes() for name in ("is_consultant", "active")
    )


def changed_scopes(session) -> set[int]:
    scopes: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, (Appointment, SlotClaim)):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            scopes |= _consultants(obj) or {CLINIC}
        elif isinstance(obj, (WeeklyHours, TimeOff)):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            scopes.add(CLINIC)
        elif isinstance(obj, StaffUser) and _takes_consults_changed(session, obj):
            scopes.add(CLINIC)
    return scopes


@event.listens_for(so.Session, "before_flush")
def _bump_on_change(session, flush_context, instances) -> None:
    """Every flush that touches the schedule bumps its versions, in the same transaction."""
    scopes = changed_scopes(session)
    if scopes:
        session.info.setdefault("schedule_scopes", set()).update(scopes)


@event.listens_for(so.Session, "after_flush")
def _write_bumps(session, flush_context) -> None:
    scopes = session.info.pop("schedule_scopes", None)
    if scopes:
        bump(session, scopes)
