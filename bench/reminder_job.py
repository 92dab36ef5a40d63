"""The reminder job's time per run as the reminder table grows."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import sqlalchemy as sa

from bench.harness import add_consultants, app_for, bulk_appointments, migrate
from booking.core.models import OutboundEmail, Reminder, StaffUser
from booking.extensions import db
from booking.messages.reminders import queue_due_reminders


def reminder_bench(folder: Path, rows: int) -> float:
    """Median seconds of one run of the reminder job (100 due) with ``rows`` reminder rows."""
    url = f"sqlite:///{folder / f'reminders-{rows}.sqlite3'}"
    migrate(url)
    app = app_for(url)
    now = datetime(2027, 1, 4, tzinfo=UTC)
    with app.app_context():
        add_consultants(1, days=range(7), start=clock(0), end=clock(23, 30))
        consultant = db.session.scalar(sa.select(StaffUser.id))
        appointments = 10_000
        bulk_appointments(appointments, consultant, now + timedelta(days=1), timedelta(minutes=30))
        per = rows // appointments
        batch = []
        for appointment_id in range(1, appointments + 1):
            for offset in range(per):
                due = (
                    now - timedelta(minutes=1)
                    if (offset == 0 and appointment_id <= 100)
                    else (now + timedelta(days=2) if offset == 1 else now - timedelta(days=1))
                )
                status = (
                    "pending"
                    if offset in (0, 1) and (offset or appointment_id <= 100)
                    else "queued"
                )
                batch.append(
                    {
                        "appointment_id": appointment_id,
                        "offset_minutes": 10_000 + offset,
                        "due_at": due,
                        "status": status,
                    }
                )
            if len(batch) >= 50_000:
                db.session.execute(sa.insert(Reminder), batch)
                batch = []
        if batch:
            db.session.execute(sa.insert(Reminder), batch)
        db.session.commit()
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            report = queue_due_reminders(db.session, now, limit=200)
            timings.append(time.perf_counter() - started)
            assert report.queued == 100, report
            db.session.execute(sa.delete(OutboundEmail))
            db.session.execute(
                sa.update(Reminder)
                .where(Reminder.offset_minutes == 10_000, Reminder.appointment_id <= 100)
                .values(status="pending", queued_at=None)
            )
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return statistics.median(timings)
