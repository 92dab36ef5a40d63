"""The staff list's filtered page as the appointment table grows."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

import pyotp

from bench.harness import (
    add_consultants,
    app_for,
    bulk_appointments,
    fill_search_text,
    migrate,
)
from booking.extensions import db
from booking.staff_accounts.accounts import new_staff_user

TOTP_SECRET = pyotp.random_base32()


def staff_list_bench(folder: Path, count: int) -> dict:
    url = f"sqlite:///{folder / f'list-{count}.sqlite3'}"
    migrate(url)
    app = app_for(url, WTF_CSRF_ENABLED=False, SESSION_COOKIE_SECURE=False)
    with app.app_context():
        add_consultants(1, days=range(7), start=clock(0), end=clock(23, 30))
        bulk_appointments(count, 1, datetime(2026, 1, 1, tzinfo=UTC), timedelta(minutes=30))
        fill_search_text()
        desk = new_staff_user(
            "desk@bench.example", "Desk", "staff", False, "bench password long enough"
        )
        # Staff sign in with a second factor: the bench's desk has one set up already.
        desk.totp_secret = TOTP_SECRET
        desk.totp_confirmed_at = datetime.now(UTC)
        db.session.add(desk)
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    client.post(
        "/staff/login",
        data={"email": "desk@bench.example", "password": "bench password long enough"},
    )
    signed_in = client.post("/staff/two-factor", data={"code": pyotp.TOTP(TOTP_SECRET).now()})
    assert signed_in.status_code == 302, "the bench's desk could not sign in"
    page = _timed(client, "/staff/appointments?cancer_type=lymphoma&urgent=yes&page=2&per_page=25")
    # A caller found by part of their email: one booking in the whole table matches.
    search = _timed(client, f"/staff/appointments?date_from=&q=p{count - 7}@exam", samples=40)
    with app.app_context():
        db.engine.dispose()
    return {**page, "search_p50_ms": search["p50_ms"], "search_p95_ms": search["p95_ms"]}


def _timed(client, url: str, samples: int = 200) -> dict:
    assert client.get(url).status_code == 200
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"p50_ms": timings[len(timings) // 2], "p95_ms": timings[int(len(timings) * 0.95)]}
