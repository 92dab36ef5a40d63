"""PostgreSQL: a booking's rows written by one statement, in one round trip.

The INSERTs are chained in a ``WITH``: the appointment first, then every row that belongs to
it, each reading the new id from the first. PostgreSQL checks the foreign keys at the end of
the statement, so the children may name an appointment the same statement inserts; a unique
index that refuses the booking fails the whole statement, as separate INSERTs would.

Each table's rows travel as one JSON parameter (``json_populate_record``), already processed
by the columns' own types (encrypted, times in UTC), so the statement has a handful of
parameters and one text whatever the booking holds: the driver reuses its parsed form and the
server its plan. (With a parameter per value the driver parsed the long statement again on
every booking, which cost more than the round trips it saved.)
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache

import sqlalchemy as sa

from .booking_rows import BookingRows, HoldGone, table_of
from .models import (
    Appointment,
    AuditEvent,
    Intake,
    OutboundEmail,
    Reminder,
    SlotClaim,
    UrgentCase,
)
from .outbox import new_email_values


def write_at_once(connection: sa.Connection, rows: BookingRows, now: datetime) -> int:
    """Insert the booking's rows; return the appointment's id (see ``booking_rows.write``)."""
    appointment = rows.full_appointment()
    emails = [new_email_values(kind, recipient, now) for kind, recipient in rows.emails]
    if appointment.get("video_link"):  # the consultant's address is read by the statement
        emails.append(new_email_values("consultant_video", None, now))  # type: ignore[arg-type]
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
