"""Free slots for 30 days with many consultants and bookings."""

from __future__ import annotations

import gc
import statistics
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import sqlalchemy as sa

from bench.harness import add_consultants, app_for, bulk_appointments, migrate
from booking.core.models import Appointment
from booking.extensions import db
from booking.scheduling.availability import free_slots, slot_rules


def slots_bench(folder: Path) -> float:
    url = f"sqlite:///{folder / 'slots.sqlite3'}"
    migrate(url)
    app = app_for(url)
    with app.app_context():
        add_consultants(10, days=range(7), start=clock(0), end=clock(23, 30))
        now = datetime(2027, 1, 4, tzinfo=UTC)
        rows = []
        for i in range(10_000):
            consultant = i % 10 + 1
            start = now + timedelta(hours=3) + timedelta(minutes=30) * (i // 10)
            rows.append(
                {
                    "reference": f"CT-{i:06d}",
                    "consultant_id": consultant,
                    "starts_at": start,
                    "ends_at": start + timedelta(minutes=30),
                    "status": "confirmed",
                    "urgent": False,
                    "consult_mode": "phone",
                    "patient_name": "P",
                    "patient_email": "p@example.com",
                    "patient_phone": "+919876543210",
                    "preferred_channel": "email",
                    "patient_timezone": "UTC",
                    "booked_by": "self",
                    "consent_health_at": now,
                    "consent_reminders": False,
                    "version": 0,
                    "submission_key": f"slot-{i}",
                    "created_at": now,
                }
            )
        db.session.execute(sa.insert(Appointment), rows)
        db.session.commit()
        median = _median_compute(app, slot_rules(app.config), now)
        db.session.remove()
        db.engine.dispose()
    return median


def past_bookings_bench(folder: Path, past: int = 100_000) -> dict:
    """Free slots for one consultant with no bookings, then with ``past`` bookings all in the
    past: the bookings query is bounded below, so the past must cost (almost) nothing."""
    url = f"sqlite:///{folder / 'slots-past.sqlite3'}"
    migrate(url)
    app = app_for(url)
    now = datetime(2027, 1, 4, tzinfo=UTC)
    with app.app_context():
        add_consultants(1, days=range(7), start=clock(0), end=clock(23, 30))
        rules = slot_rules(app.config)
        empty = _median_compute(app, rules, now)
        bulk_appointments(past, 1, now - timedelta(minutes=30) * (past + 1), timedelta(minutes=30))
        db.session.remove()
        gc.collect()  # the bulk insert's garbage is not the computation's cost
        with_past = _median_compute(app, rules, now)
        db.session.remove()
        db.engine.dispose()
    return {"empty_ms": empty * 1000, "past_ms": with_past * 1000, "past": past}


def _median_compute(app, rules, now) -> float:
    """The computation itself, not the per-process cache in front of it."""
    timings = []
    for _ in range(10):
        app.extensions.pop("free_slot_cache", None)
        started = time.perf_counter()
        free_slots(db.session, rules, now)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)
