"""Which PostgreSQL databases the tests may touch, and the throwaway ones they make.

The tests drop and rebuild the schema of the database they run on, so they refuse any database
whose name does not end in ``test``: a ``TEST_DATABASE_URL`` pointed at the clinic's real
database by mistake stops the run before anything is dropped. Each pytest-xdist worker gets a
database of its own beside the named one (``gw0_test`` next to ``test``), and a test that needs
an empty database makes one with a name of its own, so two checkouts can test against
one server at once.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from booking.core.models import PreVisitQuestion
from booking.extensions import db

NAMED_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class NotATestDatabase(Exception):
    """The URL names a database the tests must not drop."""


def database_name(url: str) -> str:
    return sa.engine.make_url(url).database or ""


def check_test_database(url: str) -> None:
    name = database_name(url)
    if not name.endswith("test"):
        raise NotATestDatabase(
            f"TEST_DATABASE_URL names the database {name!r}. The tests drop and rebuild the"
            " schema of the database they use, so its name must end in 'test'"
            " (for example booking_test)."
        )


def with_database(url: str, name: str) -> str:
    return sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)


def worker_url(worker: str | None = None) -> str:
    """The database this test process uses: the named one, or one per xdist worker."""
    worker = worker if worker is not None else os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return NAMED_URL
    return with_database(NAMED_URL, f"{worker}_{database_name(NAMED_URL)}")


def _server() -> sa.Engine:
    """A connection to the server's maintenance database, for creating and dropping others."""
    return sa.create_engine(with_database(NAMED_URL, "postgres"), isolation_level="AUTOCOMMIT")


def ensure_database(url: str) -> None:
    """Create the database ``url`` names when the server does not have it yet."""
    check_test_database(url)
    name = database_name(url)
    engine = _server()
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


@contextmanager
def throwaway_database(purpose: str) -> Iterator[str]:
    """An empty database with a name no other test or run uses, dropped afterwards."""
    name = f"{purpose}_{secrets.token_hex(4)}_test"
    check_test_database(with_database(NAMED_URL, name))
    engine = _server()
    try:
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield with_database(NAMED_URL, name)
    finally:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


PG_URL = worker_url()


# The clinic's seeded pre-visit questions, as the migrations wrote them: each test starts from
# them again, whatever the last test added, changed or approved.
SEEDED_QUESTIONS: list[dict] = []


def postgres_reachable() -> bool:
    engine = sa.create_engine(with_database(NAMED_URL, "postgres"))
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def require_postgres() -> None:
    """Fail (in CI) or skip (elsewhere) when the server is not there."""
    if not postgres_reachable():
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required but not reachable at {NAMED_URL}")
        pytest.skip(f"PostgreSQL not reachable at {NAMED_URL}")


def remember_seeded_questions(app) -> None:
    """Keep the question list the migrations seeded, to put back before each test."""
    with app.app_context():
        table = PreVisitQuestion.__table__
        rows = db.session.execute(sa.select(table)).mappings().all()
        SEEDED_QUESTIONS[:] = [dict(row) for row in rows]
        db.session.remove()
        db.engine.dispose()


def empty_postgres(app) -> None:
    """Every table emptied, and the seeded question list put back, for the next test."""
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables]
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        if SEEDED_QUESTIONS:
            db.session.execute(sa.insert(PreVisitQuestion.__table__), SEEDED_QUESTIONS)
            db.session.execute(
                sa.text(
                    "SELECT setval(pg_get_serial_sequence('previsit_question', 'id'),"
                    " (SELECT max(id) FROM previsit_question))"
                )
            )
        db.session.commit()


BOTH_DATABASES = pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)
