"""The rows of one new booking, written with Core statements.

A booking is about ten rows in seven tables (the appointment, its intake, its reminders, the
slot claim, the emails the worker will write, the audit event, an urgent call-back case, the
schedule's version). Written through the ORM's unit of work they cost most of a booking
request: the objects, their change tracking and the flush's sorting, for rows that this
request never reads again. Here they are plain column values and one INSERT per table, in the
caller's transaction; on PostgreSQL all of them are one statement (INSERTs chained in a
``WITH``), so a booking costs one round trip to the database instead of eight. The values
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
from sqlalchemy.dialects import postgresql

from .models import (
    Appointment,
    AuditEvent,
    Intake,
    OutboundEmail,
    Reminder,
    ScheduleVersion,
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


def _table(model: type) -> sa.Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, sa.Table)
    return table


@cache
def _statements() -> dict[str, sa.Executable]:
    """Built once, so that SQLAlchemy reuses their compiled form on every booking."""
    appointment = _table(Appointment)
    claim = _table(SlotClaim)
    return {
        "appointment": sa.insert(appointment).returning(appointment.c.id),
        "intake": sa.insert(_table(Intake)),
        "reminder": sa.insert(_table(Reminder)),
        "email": sa.insert(_table(OutboundEmail)),
        "audit": sa.insert(_table(AuditEvent)),
        "urgent_case": sa.insert(_table(UrgentCase)),
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
    appointment = dict(rows.appointment, search_text=search_text_of(rows.appointment))
    if connection.dialect.name == "postgresql":
        return _write_at_once(connection, rows, appointment, now)
    statements = _statements()
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


def _write_at_once(connection: sa.Connection, rows: BookingRows, appointment: dict, now) -> int:
    """PostgreSQL: every row in one statement. Foreign keys are checked at its end, so the
    children may name the appointment the same statement inserts."""
    video = bool(appointment.get("video_link"))
    emails = [new_email_values(kind, recipient, now) for kind, recipient in rows.emails]
    if video:  # its address is read by the statement itself
        emails.append(new_email_values("consultant_video", "", now))
    shape = Shape(
        appointment=tuple(appointment),
        intake=tuple(rows.intake),
        reminders=tuple(tuple(row) for row in rows.reminders),
        emails=tuple(tuple(row) for row in emails),
        audit=tuple(rows.audit),
        urgent_case=tuple(rows.urgent_case) if rows.urgent_case is not None else None,
        hold=rows.hold_id is not None,
        video=video,
    )
    params = {
        **_named("appointment", appointment),
        **_named("intake", rows.intake),
        **_named("audit", rows.audit),
        **_named("urgent_case", rows.urgent_case or {}),
        # Named apart from every column: an UPDATE would take a column's name as a new value.
        "claim_consultant_id": rows.consultant_id,
        "claim_starts_at": appointment["starts_at"],
        "claim_ends_at": appointment["ends_at"],
        "claim_created_at": now,
        "hold_id": rows.hold_id,
        "holder": rows.holder,
    }
    for number, row in enumerate(rows.reminders):
        params.update(_named(f"reminder{number}", row))
    for number, row in enumerate(emails):
        params.update(_named(f"email{number}", row))
    appointment_id, taken = connection.execute(_one_statement(shape), params).one()
    if rows.hold_id is not None and taken != 1:
        raise HoldGone()
    return appointment_id


def _named(prefix: str, values: dict) -> dict:
    return {f"{prefix}_{name}": value for name, value in values.items()}


@dataclass(frozen=True)
class Shape:
    """What one booking's statement depends on: which columns, how many rows of each."""

    appointment: tuple[str, ...]
    intake: tuple[str, ...]
    reminders: tuple[tuple[str, ...], ...]
    emails: tuple[tuple[str, ...], ...]
    audit: tuple[str, ...]
    urgent_case: tuple[str, ...] | None
    hold: bool
    video: bool


def _values(prefix: str, table: sa.Table, columns: tuple[str, ...]) -> list:
    """Typed parameters for one row, cast so PostgreSQL knows their types inside a SELECT."""
    return [
        sa.cast(sa.bindparam(f"{prefix}_{name}", type_=table.c[name].type), table.c[name].type)
        for name in columns
    ]


@cache
def _one_statement(shape: Shape) -> sa.Select:
    """The booking as one ``WITH`` statement of the given shape, built once per shape."""
    appointment = _table(Appointment)
    new = (
        sa.insert(appointment)
        .from_select(
            list(shape.appointment),
            sa.select(*_values("appointment", appointment, shape.appointment)),
        )
        .returning(appointment.c.id)
        .cte("new_appointment")
    )

    def children(name: str, table: sa.Table, rows: list[tuple[str, tuple[str, ...]]]):
        """Rows of ``table`` that belong to the new appointment, from parameters."""
        selects = [
            sa.select(new.c.id, *_values(prefix, table, columns)) for prefix, columns in rows
        ]
        source = selects[0] if len(selects) == 1 else sa.union_all(*selects)
        return sa.insert(table).from_select(["appointment_id", *rows[0][1]], source).cte(name)

    ctes = [
        children("new_intake", _table(Intake), [("intake", shape.intake)]),
        children("new_audit", _table(AuditEvent), [("audit", shape.audit)]),
    ]
    if shape.reminders:
        ctes.append(
            children(
                "new_reminders",
                _table(Reminder),
                [(f"reminder{number}", columns) for number, columns in enumerate(shape.reminders)],
            )
        )
    if shape.urgent_case is not None:
        ctes.append(children("new_case", _table(UrgentCase), [("urgent_case", shape.urgent_case)]))
    emails = _table(OutboundEmail)
    mailed = [(f"email{number}", columns) for number, columns in enumerate(shape.emails)]
    if shape.video:  # the last email goes to the consultant, whose address the statement reads
        *mailed, (prefix, columns) = mailed
        others = [name for name in columns if name != "recipient"]
        address = sa.select(StaffUser.email).where(
            StaffUser.id == sa.bindparam("claim_consultant_id")
        )
        to_consultant = sa.select(
            new.c.id, *_values(prefix, emails, tuple(others)), address.scalar_subquery()
        )
        ctes.append(
            sa.insert(emails)
            .from_select(["appointment_id", *others, "recipient"], to_consultant)
            .cte("new_consultant_email")
        )
    if mailed:
        ctes.append(children("new_emails", emails, mailed))
    claim = _table(SlotClaim)
    if shape.hold:
        taken = (
            sa.update(claim)
            .where(
                claim.c.id == sa.bindparam("hold_id"),
                claim.c.holder_hash == sa.bindparam("holder"),
                claim.c.appointment_id.is_(None),
            )
            .values(
                appointment_id=sa.select(new.c.id).scalar_subquery(),
                holder_hash=None,
                expires_at=None,
            )
            .returning(claim.c.id)
            .cte("taken_hold")
        )
        held: sa.ColumnElement = sa.select(sa.func.count()).select_from(taken).scalar_subquery()
    else:
        columns = ("consultant_id", "starts_at", "ends_at", "created_at")
        source = sa.select(new.c.id, *_values("claim", claim, columns))
        ctes.append(
            sa.insert(claim).from_select(["appointment_id", *columns], source).cte("new_claim")
        )
        held = sa.literal(0)
    version = _table(ScheduleVersion)
    ctes.append(
        postgresql.insert(version)
        .values(scope=sa.bindparam("claim_consultant_id"), version=1)
        .on_conflict_do_update(
            index_elements=[version.c.scope], set_={"version": version.c.version + 1}
        )
        .cte("bumped")
    )
    if shape.hold:
        ctes.append(taken)
    return sa.select(new.c.id, held).add_cte(*ctes)
