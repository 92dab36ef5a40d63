"""The outbox: nothing is lost while the mail server is down, nothing is sent twice."""

import smtplib
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from booking.core.models import OutboundEmail
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.messages.mailsink import MailSink
from booking.messages.outbox import (
    backoff,
    claim_due_rows,
    claim_outbox_batch,
    dispatch_outbox,
)
from tests.apps import free_port
from tests.databases import BOTH_DATABASES
from tests.factories import add_written_message


def add_emails(count, now, recipient="patient{}@example.com"):
    rows = [
        add_written_message(
            recipient.format(i), f"Subject {i}", f"Body {i}", f"<p>Body {i}</p>", now
        )
        for i in range(count)
    ]
    db.session.commit()
    return rows


def statuses():
    return db.session.scalars(sa.select(OutboundEmail.status).order_by(OutboundEmail.id)).all()


def test_bookings_succeed_while_smtp_is_down_and_send_once_it_is_up(
    client, consultant, booking_form, smtp, app
):
    smtp.stop()
    for index in range(3):
        response = client.post("/book", data=booking_form(slot_index=index))
        assert response.status_code == 302

    now = now_utc()
    report = dispatch_outbox(db.session, now)
    assert report.sent == 0 and report.retried == 6
    rows = db.session.scalars(sa.select(OutboundEmail)).all()
    assert {row.status for row in rows} == {"pending"}
    assert all(row.next_attempt_at > now for row in rows)
    assert all("Connection" in row.last_error or "refused" in row.last_error for row in rows)

    # Not yet due again: nothing is claimed, even with the server back.
    smtp.start()
    app.config["MAIL_PORT"] = smtp.port
    assert dispatch_outbox(db.session, now).claimed == 0

    later = now + backoff(1) + timedelta(seconds=1)
    assert dispatch_outbox(db.session, later).sent == 6
    assert dispatch_outbox(db.session, later + timedelta(hours=1)).claimed == 0
    ids = [message["Message-ID"] for message in smtp.messages]
    assert len(ids) == len(set(ids)) == 6
    stored = set(db.session.scalars(sa.select(OutboundEmail.message_id)))
    assert set(ids) == stored


def test_retries_wait_twice_as_long_each_time(app, smtp):
    """1, 2, 4, 8 minutes after each failure (OUTBOX_RETRY_BASE), so an outage of a few hours
    is ridden out in a handful of attempts rather than hundreds."""
    smtp.stop()
    app.config["OUTBOX_RETRY_BASE"] = timedelta(minutes=1)
    now = now_utc()
    [row] = add_emails(1, now)
    waits = []
    for _ in range(4):
        dispatch_outbox(db.session, now)
        db.session.refresh(row)
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert [round(wait.total_seconds() / 60) for wait in waits] == [1, 2, 4, 8]
    assert backoff(30) == timedelta(hours=6)  # capped


def test_a_row_past_its_last_attempt_is_dead(app, smtp):
    smtp.stop()
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    now = now_utc()
    add_emails(1, now)
    for _ in range(3):
        dispatch_outbox(db.session, now)
        now += timedelta(hours=7)  # past any backoff
    assert statuses() == ["dead"]
    row = db.session.scalar(sa.select(OutboundEmail))
    assert row.attempts == 3 and row.last_error
    assert dispatch_outbox(db.session, now + timedelta(days=1)).claimed == 0


def test_expired_lease_is_resent_with_the_same_message_id(app, smtp):
    now = now_utc()
    [row] = add_emails(1, now)
    message_id = row.message_id
    # A worker claims the row and dies before sending.
    assert claim_outbox_batch(db.session, now, 10, timedelta(minutes=5)) == [row.id]
    assert dispatch_outbox(db.session, now + timedelta(minutes=1)).claimed == 0  # lease held
    report = dispatch_outbox(db.session, now + timedelta(minutes=6))
    assert report.sent == 1
    assert [m["Message-ID"] for m in smtp.messages] == [message_id]
    assert statuses() == ["sent"]


def test_an_email_that_stops_the_sender_twice_ends_dead_and_staff_see_it(app, smtp, staff_client):
    now = now_utc()
    [row] = add_emails(1, now)
    lease = timedelta(minutes=5)
    # A worker claims it and dies; the next claims it again (once) and dies too.
    assert claim_outbox_batch(db.session, now, 10, lease) == [row.id]
    assert claim_outbox_batch(db.session, now + timedelta(minutes=6), 10, lease) == [row.id]
    db.session.refresh(row)
    assert row.last_error.startswith("interrupted")
    # The third time it is not sent again.
    report = dispatch_outbox(db.session, now + timedelta(minutes=12))
    assert report.claimed == 0 and not smtp.messages
    db.session.refresh(row)
    assert row.status == "dead" and "stopped twice" in row.last_error
    home = staff_client.get("/staff/").get_data(as_text=True)
    assert "1 email could not be sent" in home and "/staff/emails?status=dead" in home


def test_a_refused_recipient_does_not_hold_back_the_others(app, smtp):
    now = now_utc()
    add_emails(3, now)
    smtp.sink.refuse.add("patient1@example.com")
    report = dispatch_outbox(db.session, now)
    assert (report.sent, report.retried) == (2, 1)
    assert statuses() == ["sent", "pending", "sent"]


def test_an_address_the_mail_library_cannot_encode_fails_alone(app, smtp):
    """An address stored before the form refused non-ASCII local parts: that email fails and
    counts an attempt; the others in its batch go out, and nothing is left "sending"."""
    now = now_utc()
    add_emails(1, now)
    add_emails(1, now, recipient="ë{}@example.com")
    add_emails(1, now, recipient="other{}@example.com")
    report = dispatch_outbox(db.session, now)
    assert (report.sent, report.retried) == (2, 1)
    assert statuses() == ["sent", "pending", "sent"]
    stuck = db.session.scalar(sa.select(OutboundEmail).where(OutboundEmail.status == "pending"))
    assert stuck.attempts == 1 and stuck.last_error


def test_a_body_that_cannot_be_decrypted_fails_alone_and_ends_dead(app, smtp):
    """A key removed too early or a damaged value: that email fails alone, counts its
    attempts, and ends dead where staff see it; the rest of its batch goes out."""
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    now = now_utc()
    rows = add_emails(3, now)
    damaged = rows[1].id
    db.session.execute(
        sa.text("UPDATE outbound_email SET body_html = 'not-a-fernet-token' WHERE id = :id"),
        {"id": damaged},
    )
    db.session.commit()
    report = dispatch_outbox(db.session, now)
    assert (report.sent, report.retried) == (2, 1)
    dispatch_outbox(db.session, now + timedelta(hours=1))
    assert statuses() == ["sent", "dead", "sent"]
    error = db.session.scalar(
        sa.select(OutboundEmail.last_error).where(OutboundEmail.id == damaged)
    )
    assert "ENCRYPTION_KEYS" in error


def test_staff_see_an_undecryptable_email_in_the_logs(app, staff_client, smtp):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    [row] = add_emails(1, now_utc())
    db.session.execute(sa.text("UPDATE outbound_email SET body_text = 'damaged'"))
    db.session.commit()
    dispatch_outbox(db.session)
    page = staff_client.get("/staff/emails?status=dead")
    assert page.status_code == 200
    assert "ENCRYPTION_KEYS" in page.get_data(as_text=True)


def test_one_connection_per_batch(app, smtp, monkeypatch):
    opened = []
    original = smtplib.SMTP.connect

    def counting_connect(self, *args, **kwargs):
        opened.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", counting_connect)
    now = now_utc()
    add_emails(5, now)
    assert dispatch_outbox(db.session, now).sent == 5
    assert len(opened) == 1


def test_a_silent_server_times_out_instead_of_hanging(app):
    """A server that accepts the connection and never answers must not hold the worker."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    app.config["MAIL_PORT"] = listener.getsockname()[1]
    app.config["MAIL_TIMEOUT"] = timedelta(seconds=1)
    now = now_utc()
    add_emails(1, now)
    try:
        report = dispatch_outbox(db.session, now)
    finally:
        listener.close()
    assert report.retried == 1
    assert "timed out" in db.session.scalar(sa.select(OutboundEmail.last_error))


@BOTH_DATABASES
def test_two_workers_at_once_send_each_email_once(app, smtp):
    now = now_utc()
    add_emails(120, now)
    app.config["OUTBOX_BATCH_SIZE"] = 10
    db.session.remove()

    def work():
        with app.app_context():
            while dispatch_outbox(db.session, now).claimed:
                pass
            db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    ids = [message["Message-ID"] for message in smtp.messages]
    assert len(ids) == 120
    assert len(set(ids)) == 120
    assert set(statuses()) == {"sent"}


@BOTH_DATABASES
def test_a_claim_takes_at_most_its_batch(app):
    """A worker takes one batch at a time, so that two workers share the work and a killed
    worker leaves at most one batch to resend."""
    now = now_utc()
    add_emails(30, now)
    assert len(claim_outbox_batch(db.session, now, 10, timedelta(minutes=5))) == 10
    assert statuses().count("sending") == 10


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_claim_never_takes_rows_another_open_claim_holds(app):
    """Forced interleaving on PostgreSQL: worker A has claimed and not yet committed while
    worker B claims and commits. B must get other rows at once (SKIP LOCKED), not wait for A
    nor take A's rows. SQLite runs one writer at a time, so there the database itself
    serialises the two."""
    now = now_utc()
    add_emails(30, now)
    db.session.remove()
    lease = timedelta(minutes=5)
    a_claimed, b_done = threading.Event(), threading.Event()
    results = {}

    def worker_a():
        with app.app_context():
            results["a"] = claim_due_rows(db.session, now, 10, lease)
            a_claimed.set()
            b_done.wait(10)  # B claims while A's transaction is still open
            db.session.commit()
            db.session.remove()

    def worker_b():
        with app.app_context():
            a_claimed.wait(10)
            results["b"] = claim_due_rows(db.session, now, 25, lease)
            db.session.commit()
            b_done.set()
            db.session.remove()

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results["a"]) == 10
    assert not set(results["a"]) & set(results["b"])
    assert len(results["b"]) == 20  # everything A did not hold
    assert set(statuses()) == {"sending"}


def test_a_message_that_cannot_be_built_does_not_hold_back_the_batch(app, smtp):
    now = now_utc()
    add_emails(2, now)
    bad = add_emails(1, now, recipient="broken\nBcc: everyone@example.com")[0]
    report = dispatch_outbox(db.session, now)
    assert report.sent == 2
    assert db.session.get(OutboundEmail, bad.id).status == "pending"
    assert len(smtp.messages) == 2


class DropsTheConnection(MailSink):
    """A real SMTP server that accepts ``keep`` messages, then hangs up in the middle of the
    next one, as a server restarting or a network dropping would."""

    def __init__(self, keep: int):
        super().__init__()
        self.keep = keep

    async def handle_DATA(self, server, session, envelope):
        if len(self.messages) >= self.keep:
            server.transport.close()
            return "421 closing"
        return await super().handle_DATA(server, session, envelope)


def test_a_connection_that_breaks_mid_batch_loses_and_repeats_nothing(app):
    handler = DropsTheConnection(keep=2)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["MAIL_PORT"] = controller.port
    try:
        now = now_utc()
        add_emails(5, now)
        report = dispatch_outbox(db.session, now)
        assert report.sent == 2 and report.retried == 3
        assert statuses() == ["sent", "sent", "pending", "pending", "pending"]
        handler.keep = 100  # the server is back to normal
        dispatch_outbox(db.session, now + timedelta(minutes=2))
        assert statuses() == ["sent"] * 5
        subjects = sorted(message["Subject"] for message in handler.messages)
        assert subjects == [f"Subject {i}" for i in range(5)]  # each once
    finally:
        controller.stop()


def test_patients_see_the_clinic_s_name_as_the_sender(app, smtp):
    add_emails(1, now_utc())
    dispatch_outbox(db.session)
    sender = smtp.messages[0]["From"].addresses[0]
    assert sender.display_name == app.config["CLINIC_NAME"]
    assert sender.addr_spec == app.config["MAIL_DEFAULT_SENDER"]


@BOTH_DATABASES
def test_each_email_is_recorded_sent_before_the_next_goes(app, smtp):
    """A worker killed mid-batch re-sends at most the message in flight: when the server
    receives each message, every earlier one is already recorded as sent, as another
    connection to the database sees it."""
    now = now_utc()
    add_emails(5, now)
    watcher = sa.create_engine(db.engine.url)
    seen: list[int] = []
    receive = smtp.sink.handle_DATA

    async def watching(server, session, envelope):
        with watcher.connect() as connection:
            seen.append(
                connection.scalar(
                    sa.select(sa.func.count(OutboundEmail.id)).where(OutboundEmail.status == "sent")
                )
            )
        return await receive(server, session, envelope)

    smtp.sink.handle_DATA = watching
    try:
        assert dispatch_outbox(db.session, now).sent == 5
    finally:
        watcher.dispose()
    assert seen == [0, 1, 2, 3, 4]
