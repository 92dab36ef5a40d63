"""The rows of one new booking, written with Core statements.

A booking is about ten rows in seven tables (the appointment, its intake, its reminders, the
slot claim, the emails the worker will write, the audit event, an urgent call-back case, the
schedule's version). Written through the ORM's unit of work they cost most of a booking
request: the objects, their change tracking and the flush's sorting, for rows that this
request never reads again. Here they are plain column values and one INSERT per table, in the
caller's transaction. The values come from the same functions the ORM paths use
(``reminder_plan``, ``new_email_values``, ``event_values``, ``new_case_values``,
``search_text_of``), so a booking written here reads back exactly like one written there.

On PostgreSQL all of them are one statement, so a booking costs one round trip instead of
eight. The INSERTs are chained in a ``WITH``: the appointment first, then every row that
belongs to it, each reading the new id from the first. PostgreSQL checks the foreign keys at
the end of the statement, so the children may name an appointment the same statement
inserts. Each table's rows travel as one JSON parameter (``json_populate_record``), already
processed by the columns' own types (encrypted, times in UTC), so the statement has a handful
of parameters and one text whatever the booking holds: the driver reuses its parsed form and
the server its plan. (With a parameter per value the driver parsed the long statement again
on every booking, which cost more than the round trips it saved.)

Rules restated here for speed, and the tests that keep them in step with the originals:
- the schedule-version bump (``schedule_version.bump_on``) is repeated inside the PostgreSQL
  statement: ``tests/test_booking_steps.py::test_a_booking_bumps_its_consultants_schedule_version``
  on both databases;
- the rows themselves must read back like the ORM's: the booking, reminder, email and
  urgent-case tests run on both databases.

The unique indexes still decide every race: a second booking of a consultant's time, a
reference drawn twice, or a form sent twice fails its INSERT with ``IntegrityError``, and the
caller rolls back and tries again (see ``bookings.book_and_commit``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import sqlalchemy as sa

from ..core.models import (
    Appointment,
    AuditEvent,
    Intake,
    OutboundEmail,
    Reminder,
    SlotClaim,
    StaffUser,
    UrgentCase,
)
from ..core.statuses import MessageKind
from ..messages.outbox import new_email_values
from ..messages.writing import recorded_facts
from ..scheduling.schedule_version import bump_on
from .search import search_text_of


@dataclass
class BookingRows:
    """Everything one booking inserts, but the ids the database gives."""

    consultant_id: int
    appointment: dict
    intake: dict
    reminders: list[dict]
    audit: dict
    # (kind, recipient, facts, channel) of each message; the consultant's video email is added
    # at the write.
    emails: list[tuple[MessageKind, str, dict, str]] = field(default_factory=list)
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
        return _write_postgres(connection, rows, now)
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
        emails.append((MessageKind.CONSULTANT_VIDEO, consultant_email, {}, "email"))
    messages = _emails(rows.appointment, emails, now)
    connection.execute(statements["email"], [{**row, **owned} for row in messages])
    connection.execute(statements["audit"], {**rows.audit, **owned})
    bump_on(connection, {rows.consultant_id})
    return appointment_id


def _emails(appointment: dict, emails: list, now: datetime) -> list[dict]:
    """The message rows, each with the booking as it is made and its own facts (whose copy)."""
    return [
        new_email_values(kind, recipient, now, recorded_facts(appointment, **facts), channel)
        for kind, recipient, facts, channel in emails
    ]


def _write_postgres(connection: sa.Connection, rows: BookingRows, now: datetime) -> int:
    """PostgreSQL: every row in one statement (see the module's docstring)."""
    appointment = rows.full_appointment()
    emails = _emails(appointment, rows.emails, now)
    if appointment.get("video_link"):  # the consultant's address is read by the statement
        context = recorded_facts(appointment)
        consultant = new_email_values(MessageKind.CONSULTANT_VIDEO, None, now, context)  # type: ignore[arg-type]
        emails.append(consultant)
    dialect = connection.dialect
    parts = {
        "appointment": _processed(dialect, Appointment, [appointment]),
        "intake": _processed(dialect, Intake, [rows.intake]),
        "reminders": _processed(dialect, Reminder, rows.reminders),
        "emails": _processed(dialect, OutboundEmail, emails),
        "audit": _processed(dialect, AuditEvent, [rows.audit]),
        "cases": _processed(dialect, UrgentCase, [rows.urgent_case] if rows.urgent_case else []),
    }
    columns = tuple((name, tuple(values[0]) if values else ()) for name, values in parts.items())
    claim = {
        "consultant_id": rows.consultant_id,
        "starts_at": appointment["starts_at"],
        "ends_at": appointment["ends_at"],
        "created_at": now,
    }
    params = {
        **{name: json.dumps(values) for name, values in parts.items()},
        "claim": json.dumps(
            _processed(dialect, SlotClaim, [claim]) if rows.hold_id is None else []
        ),
        "consultant_id": rows.consultant_id,
        "hold_id": rows.hold_id,
        "holder": rows.holder,
    }
    appointment_id, taken = connection.execute(_statement(columns), params).one()
    if rows.hold_id is not None and taken != 1:
        raise HoldGone()
    return appointment_id


def _processed(dialect, model: type, rows: list[dict]) -> list[dict]:
    """Each value as its column's type would send it, in JSON's terms (times as ISO text)."""
    table = table_of(model)
    out = []
    for row in rows:
        values = {}
        for name, value in row.items():
            processor = _processor(dialect, table, name)
            if processor is not None:
                value = processor(value)
            values[name] = value.isoformat() if isinstance(value, datetime) else value
        out.append(values)
    return out


@cache
def _processor(dialect, table: sa.Table, name: str):
    return table.c[name].type.bind_processor(dialect)


def _quoted(names) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _from_json(names, recipient: str | None = None) -> str:
    """The JSON rows' values in column order (an email without a recipient goes to
    ``recipient``, an SQL expression, when given)."""
    return ", ".join(
        f'COALESCE(r."{name}", {recipient})' if name == "recipient" and recipient else f'r."{name}"'
        for name in names
    )


@cache
def _statement(columns: tuple[tuple[str, tuple[str, ...]], ...]) -> sa.TextClause:
    """The statement for bookings whose rows have these columns, built once."""
    names = dict(columns)
    tables = {
        "appointment": table_of(Appointment).name,
        "intake": table_of(Intake).name,
        "reminders": table_of(Reminder).name,
        "emails": table_of(OutboundEmail).name,
        "audit": table_of(AuditEvent).name,
        "cases": table_of(UrgentCase).name,
    }
    claims = table_of(SlotClaim).name

    def rows(part: str) -> str:
        return (
            f'json_populate_recordset(CAST(NULL AS "{tables[part]}"), CAST(:{part} AS json)) AS r'
        )

    appointment = names["appointment"]
    steps = [
        f"new_appointment AS (INSERT INTO {tables['appointment']} ({_quoted(appointment)}) "
        f"SELECT {_from_json(appointment)} FROM {rows('appointment')} RETURNING id)"
    ]
    # The consultant's video email has no recipient in its row: the statement reads it.
    recipient = {
        "emails": "(SELECT email FROM staff_user WHERE id = CAST(:consultant_id AS integer))"
    }
    for part in ("intake", "reminders", "emails", "audit", "cases"):
        if columns_of_part := names[part]:
            steps.append(
                f"new_{part} AS (INSERT INTO {tables[part]} "
                f"(appointment_id, {_quoted(columns_of_part)}) "
                f"SELECT n.id, {_from_json(columns_of_part, recipient.get(part))} "
                f"FROM new_appointment AS n, {rows(part)})"
            )
    claim = ("consultant_id", "starts_at", "ends_at", "created_at")
    steps += [
        # A new claim on the consultant's time (none when a hold becomes the booking's).
        f"new_claim AS (INSERT INTO {claims} (appointment_id, {_quoted(claim)}) "
        f"SELECT n.id, {_from_json(claim)} FROM new_appointment AS n, "
        f'json_populate_recordset(CAST(NULL AS "{claims}"), CAST(:claim AS json)) AS r)',
        # The browser's hold, only while it is still that browser's.
        f"taken_hold AS (UPDATE {claims} SET appointment_id = (SELECT id FROM new_appointment), "
        "holder_hash = NULL, expires_at = NULL WHERE id = CAST(:hold_id AS integer) "
        "AND holder_hash = CAST(:holder AS text) AND appointment_id IS NULL RETURNING id)",
        "bumped AS (INSERT INTO schedule_version (scope, version) "
        "VALUES (CAST(:consultant_id AS integer), 1) ON CONFLICT (scope) "
        "DO UPDATE SET version = schedule_version.version + 1)",
    ]
    return sa.text(
        "WITH "
        + ",\n".join(steps)
        + "\nSELECT n.id, (SELECT count(*) FROM taken_hold) FROM new_appointment AS n"
    )
