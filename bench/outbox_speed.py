"""The outbox against plain smtplib, both sending to an SMTP sink in its own process that
accepts without parsing (bench/bare_sink.py): the sender's cost is what is measured, not the
sink's. Then the same with 20 ms of server latency per message, where several dispatchers
(worker threads, as several worker processes would) overlap the waiting."""

from __future__ import annotations

import smtplib
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench.harness import ROOT, app_for, free_port, migrate
from booking.core.models import OutboundEmail
from booking.core.statuses import MessageKind
from booking.extensions import db
from booking.messages.outbox import build_message, dispatch_outbox, new_email_values

TEXT = "Your consult details and the questions to ask.\n" * 60
HTML = "<p>Your consult details and the questions to ask.</p>\n" * 60
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def start_sink(port: int, delay_ms: int) -> subprocess.Popen:
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "bare_sink.py"), str(port), str(delay_ms)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == "ready"
    return sink


def _fill(count: int) -> list[bytes]:
    now = datetime.now(UTC)
    for number in range(count):
        # Ready-made bodies, as a row has after its first attempt: this measures sending.
        recipient = f"patient{number}@example.com"
        row = OutboundEmail(**new_email_values(MessageKind.REMINDER, recipient, now, None))
        row.subject, row.body_text, row.body_html, row.ics = f"Consult {number}", TEXT, HTML, ICS
        db.session.add(row)
    db.session.commit()
    rows = db.session.scalars(sa.select(OutboundEmail).order_by(OutboundEmail.id))
    messages = [build_message(row) for row in rows]
    db.session.remove()
    return messages


def _raw_seconds(port: int, messages: list[bytes]) -> float:
    """Plain smtplib over one connection, the bytes built beforehand: the floor."""
    started = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=20)
    for number, message in enumerate(messages):
        smtp.sendmail("consults@clinic.example", [f"patient{number}@example.com"], message)
    smtp.quit()
    return time.perf_counter() - started


def _outbox_seconds(app, dispatchers: int) -> float:
    def drain():
        with app.app_context():
            while dispatch_outbox(db.session).claimed:
                pass
            db.session.remove()

    threads = [threading.Thread(target=drain) for _ in range(dispatchers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def _run(folder: Path, count: int, delay_ms: int, dispatchers: int, batch: int) -> dict:
    url = f"sqlite:///{folder / f'outbox-{delay_ms}.sqlite3'}"
    migrate(url)
    port = free_port()
    sink = start_sink(port, delay_ms)
    app = app_for(url, MAIL_PORT=port, OUTBOX_BATCH_SIZE=batch)
    try:
        with app.app_context():
            messages = _fill(count)
        raw = _raw_seconds(port, messages)
        seconds = _outbox_seconds(app, dispatchers)
        with app.app_context():
            sent = db.session.scalar(
                sa.select(sa.func.count(OutboundEmail.id)).where(OutboundEmail.status == "sent")
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    assert sent == count, (sent, count)
    return {
        "emails": count,
        "smtplib_per_s": count / raw,
        "outbox_per_s": count / seconds,
        "outbox_ratio": raw / seconds,
        "dispatchers": dispatchers,
        "latency_ms": delay_ms,
    }


def outbox_bench(folder: Path) -> dict:
    return {
        "fast": _run(folder, 5000, 0, 1, 200),
        "latency": _run(folder, 500, 20, 4, 25),
    }
