"""The database fails under a form: a 503 page keeps every answer to send again, and a
connection lost before anything was committed is tried once more."""

from __future__ import annotations

import html
import re
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from booking.core.models import Appointment
from booking.extensions import db
from tests.databases import BOTH_DATABASES
from tests.factories import VALID_ANSWERS

_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def appointments() -> int:
    return db.session.scalar(sa.select(sa.func.count(Appointment.id)))


@contextmanager
def refusing_writes(engine):
    """A database that refuses every write, as a full disk or a read-only failover does:
    SQLite in query-only mode, PostgreSQL with read-only transactions. New connections only,
    so the pool is emptied first and again after."""

    def on_connect(dbapi_connection, record):
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_connection.commit()
        cursor.close()

    db.session.remove()
    engine.dispose()
    sa.event.listen(engine, "connect", on_connect)
    try:
        yield
    finally:
        sa.event.remove(engine, "connect", on_connect)
        db.session.remove()
        engine.dispose()


def kept_fields(page: str) -> MultiDict:
    return MultiDict((name, html.unescape(value)) for name, value in _HIDDEN.findall(page))


@BOTH_DATABASES
def test_a_database_that_refuses_writes_keeps_every_answer_to_send_again(
    app, client, consultant, booking_form
):
    data = booking_form(slot_index=3, red_flags=["none"])
    with refusing_writes(db.engine):
        response = client.post("/book", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert "We could not save this just now" in page and "Nothing is lost" in page
    assert response.headers["Cache-Control"] == "no-store"
    kept = kept_fields(page)
    for name, value in data.items():
        assert kept.getlist(name) == (value if isinstance(value, list) else [value]), name
    assert html.escape(VALID_ANSWERS["own_questions"]) in page
    assert appointments() == 0
    # The disk has room again: "Send again" books with what was kept.
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page)[1])
    assert client.post(action, data=kept).status_code == 302
    assert appointments() == 1


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_connection_lost_before_commit_is_tried_once_more(app, client, consultant, booking_form):
    """PostgreSQL ends the request's connection as it first writes (as a restart does)."""
    killer = sa.create_engine(db.engine.url)
    ended: list[int] = []

    def end_connection_once(conn, cursor, statement, parameters, context, executemany):
        if ended or not statement.lstrip().upper().startswith(("INSERT", "WITH")):
            return
        pid = conn.connection.dbapi_connection.info.backend_pid
        with killer.begin() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        ended.append(pid)

    sa.event.listen(db.engine, "before_cursor_execute", end_connection_once)
    try:
        response = client.post("/book", data=booking_form(slot_index=4))
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", end_connection_once)
        killer.dispose()
    assert ended, "the connection was never ended"
    assert response.status_code == 302
    assert appointments() == 1
