"""The outbox against plain smtplib, both to a local sink."""

from __future__ import annotations

import smtplib
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bench.harness import app_for, free_port, migrate
from booking.extensions import db
from booking.mailsink import start_sink
from booking.models import OutboundEmail
from booking.notifications import Email
from booking.outbox import build_message, dispatch_outbox, enqueue


def outbox_bench(folder: Path, count: int = 5000) -> dict:
    url = f"sqlite:///{folder / 'outbox.sqlite3'}"
    migrate(url)
    port = free_port()
    controller, sink = start_sink("127.0.0.1", port)
    app = app_for(url, MAIL_PORT=port, OUTBOX_BATCH_SIZE=200)
    text = "Your consult details and the questions to ask.\n" * 60
    html = "<p>Your consult details and the questions to ask.</p>\n" * 60
    ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
    try:
        with app.app_context():
            now = datetime.now(UTC)
            for number in range(count):
                enqueue(
                    db.session,
                    Email(
                        "bench",
                        f"patient{number}@example.com",
                        f"Consult {number}",
                        text,
                        html,
                        ics,
                    ),
                    now,
                )
            db.session.commit()
            messages = [
                build_message(row).as_bytes()
                for row in db.session.scalars(sa.select(OutboundEmail).order_by(OutboundEmail.id))
            ]
            db.session.remove()

            started = time.perf_counter()
            smtp = smtplib.SMTP("127.0.0.1", port, timeout=20)
            for number, message in enumerate(messages):
                smtp.sendmail("consults@clinic.example", [f"patient{number}@example.com"], message)
            smtp.quit()
            raw_seconds = time.perf_counter() - started

            started = time.perf_counter()
            while dispatch_outbox(db.session).claimed:
                pass
            outbox_seconds = time.perf_counter() - started
            sent = db.session.scalar(
                sa.select(sa.func.count(OutboundEmail.id)).where(OutboundEmail.status == "sent")
            )
            db.session.remove()
            db.engine.dispose()
    finally:
        controller.stop()
    assert sent == count and len(sink.messages) == 2 * count
    return {
        "emails": count,
        "smtplib_per_s": count / raw_seconds,
        "outbox_per_s": count / outbox_seconds,
        "outbox_ratio": raw_seconds / outbox_seconds,
    }
