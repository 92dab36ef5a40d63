"""The rows of one new booking, written with Core statements.

A booking is about ten rows in seven tables (the appointment, its intake, its reminders, the
slot claim, the emails the worker will write, the audit event, an urgent call-back case, the
schedule's version). Written through the ORM's unit of work they cost most of a booking
request: the objects, their change tracking and the flush's sorting, for rows that this
request never reads again. Here they are plain column values and one INSERT per table, in the
caller's transaction; on PostgreSQL all of them are one statement (``one_statement.py``),
so a booking costs one round trip to the database instead of eight. The values
come from the same functions the ORM paths use (``reminder_plan``, ``new_email_values``,
``event_values``, ``new_case_values``, ``search_text_of``), so a booking written here reads
back exactly like one written there.

The unique indexes still decide every race: a second booking of a consultant's time, a
reference drawn twice, or a form sent twice fails its INSERT with ``IntegrityError``, and the
caller rolls back and tries again (see ``bookings.book_and_commit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa

from .models import (
    Appointment,
    AuditEvent,
    Intake,
    OutboundEmail,
    Reminder,
    SlotClaim,
    StaffUser,
    UrgentCase,
)
from .outbox import new_email_values
from .schedule import bump_on
from .search import search_text_of


@dataclass
class BookingRows:
    """Everything one booking inserts, but the ids the database gives."""

    consultant_id: int
    appointment: dict
    intake: dict
    reminders: list[dict]
    audit: dict
    # (kind, recipient) of each email; the consultant's video email is added at the write.
    emails: list[tuple[str, str]] = field(default_factory=list)
    urgent_case: dict | None = None
    # The browser's hold on this time, which becomes the booking's claim.
    hold_id: int | None = None
    holder: str | None = None

    def full_appointment(self) -> dict:
        """The appointment's columns with its search text (see ``search.py``)."""
        return dict(self.appointment, search_text=search_text_of(self.appointment))


def table_of(model: type) -> sa.Table:
    """A model's table, typed as one (the declarative attribute is typed as any FROM)."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


@cache
def _statements() -> dict[str, sa.Executable]:
    """Built once, so that SQLAlchemy reuses their compiled form on every booking."""
    appointment = table_of(Appointment)
    claim = table_of(SlotClaim)
    return {
        "appointment": sa.insert(appointment).returning(appointment.c.id),
        "intake": sa.insert(table_of(Intake)),
        "reminder": sa.insert(table_of(Reminder)),
        "email": sa.insert(table_of(OutboundEmail)),
        "audit": sa.insert(table_of(AuditEvent)),
        "urgent_case": sa.insert(table_of(UrgentCase)),
        "claim": sa.insert(claim),
        # Only while the row is still this browser's hold: else nothing is updated.
        "take_hold": sa.update(claim)
        .where(
            claim.c.id == sa.bindparam("hold_id"),
            claim.c.holder_hash == sa.bindparam("holder"),
            claim.c.appointment_id.is_(None),
        )
        .values(appointment_id=sa.bindparam("appointment_id"), holder_hash=None, expires_at=None),
        "consultant_email": sa.select(StaffUser.email).where(StaffUser.id == sa.bindparam("id")),
    }


class HoldGone(Exception):
    """The browser's hold was taken or released since it was read."""


def write(connection: sa.Connection, rows: BookingRows, now: datetime) -> int:
    """Insert the booking's rows in the connection's transaction; return the appointment's id.
    Raises ``IntegrityError`` when a unique index refuses the booking, :class:`HoldGone` when
    the hold it was to use is no longer there (the caller rolls back either way)."""
    if connection.dialect.name == "postgresql":
        from .one_statement import write_at_once  # it builds on this module

        return write_at_once(connection, rows, now)
    statements = _statements()
    appointment = rows.full_appointment()
    appointment_id = connection.execute(statements["appointment"], appointment).scalar_one()
    owned = {"appointment_id": appointment_id}
    if rows.hold_id is None:
        connection.execute(
            statements["claim"],
            {
                "consultant_id": rows.consultant_id,
                "starts_at": appointment["starts_at"],
                "ends_at": appointment["ends_at"],
                "created_at": now,
                **owned,
            },
        )
    else:
        taken = connection.execute(
            statements["take_hold"], {"hold_id": rows.hold_id, "holder": rows.holder, **owned}
        )
        if taken.rowcount != 1:
            raise HoldGone()
    connection.execute(statements["intake"], {**rows.intake, **owned})
    if rows.reminders:
        connection.execute(statements["reminder"], [{**row, **owned} for row in rows.reminders])
    if rows.urgent_case is not None:
        connection.execute(statements["urgent_case"], {**rows.urgent_case, **owned})
    emails = list(rows.emails)
    if appointment.get("video_link"):
        consultant_email = connection.execute(
            statements["consultant_email"], {"id": rows.consultant_id}
        ).scalar_one()
        emails.append(("consultant_video", consultant_email))
    connection.execute(
        statements["email"],
        [{**new_email_values(kind, recipient, now), **owned} for kind, recipient in emails],
    )
    connection.execute(statements["audit"], {**rows.audit, **owned})
    bump_on(connection, {rows.consultant_id})
    return appointment_id
