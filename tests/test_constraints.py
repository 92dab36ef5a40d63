"""Every CHECK constraint in the migrated database says what the model declares.

``flask db check`` compares tables, columns and indexes but not CHECK conditions, so a status
added in code and in a migration but not in the model (or the other way round) would go
unnoticed until a row with it is refused, or accepted when it should not be.
"""

import re

import pytest
import sqlalchemy as sa

from booking.core.statuses import (
    ActorKind,
    AppointmentStatus,
    MessageKind,
    OutboxStatus,
    ReminderStatus,
)
from booking.extensions import db
from tests.databases import BOTH_DATABASES

LITERAL = re.compile(r"'([^']*)'|\b(\d+)\b")


def terms(condition: str) -> set[str]:
    """The quoted values and numbers of a condition: what differs when a list of values does.
    PostgreSQL rewrites ``IN (...)`` as ``= ANY (ARRAY[...])`` with casts; the values stay."""
    return {quoted or number for quoted, number in LITERAL.findall(condition)}


def declared() -> dict[tuple[str, str], set[str]]:
    found = {}
    for table in db.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint):
                found[(table.name, str(constraint.name))] = terms(str(constraint.sqltext))
    return found


def in_database() -> dict[tuple[str, str], set[str]]:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            sa.text(
                "SELECT rel.relname, con.conname, pg_get_constraintdef(con.oid)"
                " FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid"
                " JOIN pg_namespace ns ON ns.oid = rel.relnamespace"
                " WHERE con.contype = 'c' AND ns.nspname = current_schema()"
            )
        )
        return {(table, name): terms(definition) for table, name, definition in rows}
    found = {}
    tables = connection.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type='table'"))
    for table, sql in tables:
        for name, condition in re.findall(
            r"CONSTRAINT (\w+) CHECK \((.*?)\)(?:,|\s*\)$|\s*\n)", sql or "", re.S
        ):
            found[(table, name)] = terms(condition)
    return found


@BOTH_DATABASES
def test_every_check_constraint_matches_the_models(app):
    expected = declared()
    assert expected  # the models do declare some
    assert in_database() == expected


@pytest.mark.parametrize(
    ("table", "enum"),
    [
        ("appointment", AppointmentStatus),
        ("reminder", ReminderStatus),
        ("outbound_email", OutboxStatus),
        ("audit_event", ActorKind),
        ("outbound_email", MessageKind),
    ],
)
def test_status_checks_come_from_their_enums(table, enum):
    column = {ActorKind: "actor", MessageKind: "kind"}.get(enum, "status")
    name = f"ck_{table}_{column}"
    assert declared()[(table, name)] == {member.value for member in enum}
