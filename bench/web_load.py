"""GET and POST /book through gunicorn, against /healthz in the same run."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from bench.harness import (
    add_consultants,
    app_for,
    free_port,
    fresh_database,
    migrate,
    server_env,
    start_gunicorn,
    wrk,
)
from bench.post_wrk import post_bench
from booking.core.models import Appointment
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.scheduling.availability import free_slots, slot_rules
from booking.scheduling.holds import claim_for


def http_bench(backend: str, folder: Path) -> dict:
    url = fresh_database(backend, folder)
    migrate(url)
    app = app_for(url)
    with app.app_context():
        add_consultants(10)
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    server = start_gunicorn(server_env(url, port), port)
    try:
        base = f"http://127.0.0.1:{port}"
        wrk(f"{base}/healthz", seconds=2)  # warm up both workers
        health = wrk(f"{base}/healthz")
        form = wrk(f"{base}/book?tz=Asia/Kolkata")
        posts = post_bench(port, folder, per_slot=10)
        with app.app_context():
            # Only bookings made count: a request that found its booking again is not one.
            posts["booked"] = db.session.scalar(sa.select(sa.func.count(Appointment.id)))
            db.session.remove()
        with app.app_context():
            in_window = _top_up(1000)
        # With 1,000 bookings in the window: the first screen, a chosen day, and the first
        # screen for a patient in another zone than the clinic's.
        busy_form = wrk(f"{base}/book?tz=Asia/Kolkata")
        day = _busiest_day(base)
        busy_day = wrk(f"{base}/book?day={day}&tz=Asia/Kolkata")
        other_zone = wrk(f"{base}/book?tz=America/New_York")
        first_screen_bytes = len(_get(f"{base}/book?tz=Asia/Kolkata"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    with app.app_context():
        doubles = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM (SELECT consultant_id, starts_at FROM appointment "
                "WHERE status != 'cancelled' GROUP BY consultant_id, starts_at "
                "HAVING count(*) > 1) AS d"
            )
        )
        booked = db.session.scalar(sa.select(sa.func.count(Appointment.id)))
        db.session.remove()
        db.engine.dispose()
    post_rps = posts["booked"] / posts["seconds"]
    return {
        "healthz_rps": health["rps"],
        "get_book_rps": form["rps"],
        "get_book_ratio": form["rps"] / health["rps"],
        "get_book_errors": form["errors"],
        "get_book_socket_errors": form["socket_errors"],
        "bookings_in_window": in_window,
        "get_book_busy_rps": busy_form["rps"],
        "get_book_busy_ratio": busy_form["rps"] / health["rps"],
        "get_day_rps": busy_day["rps"],
        "get_day_ratio": busy_day["rps"] / health["rps"],
        "get_other_zone_rps": other_zone["rps"],
        "get_other_zone_ratio": other_zone["rps"] / health["rps"],
        "get_errors_busy": busy_form["errors"] + busy_day["errors"] + other_zone["errors"],
        "get_socket_errors_busy": "; ".join(
            filter(None, (r["socket_errors"] for r in (busy_form, busy_day, other_zone)))
        ),
        "first_screen_bytes": first_screen_bytes,
        "post_book_rps": post_rps,
        "post_book_ratio": post_rps / health["rps"],
        "post_book_errors": posts["errors"],
        "post_book_server_errors": posts["server_errors"],
        "post_book_socket_errors": posts["socket_errors"],
        "post_book_sent": posts["posts"],
        "bookings_made": booked,
        "double_bookings": doubles,
    }


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read().decode()


def _busiest_day(base: str) -> str:
    """A day the first screen offers (its first), as a patient would pick it."""
    page = _get(f"{base}/book?tz=Asia/Kolkata")
    return re.search(r'data-day href="/book\?day=(\d{4}-\d\d-\d\d)', page)[1]


def _top_up(target: int) -> int:
    """Bookings in the bookable window, topped up to ``target`` (spread over the free times,
    one consultant each) with the schedule's version bumped, as a booking would."""
    rules = slot_rules(current_app.config)
    now = now_utc()
    window = (Appointment.starts_at > now) & (Appointment.status == "confirmed")
    have = db.session.scalar(sa.select(sa.func.count(Appointment.id)).where(window)) or 0
    free = free_slots(db.session, rules, now)
    rows = []
    for moment, consultants in free.items():
        for consultant_id in consultants:
            if have + len(rows) >= target:
                break
            rows.append((moment, consultant_id))
    for number, (moment, consultant_id) in enumerate(rows):
        appointment = Appointment(
            reference=f"CT-T{number:05d}",
            consultant_id=consultant_id,
            starts_at=moment,
            ends_at=moment + rules.consult,
            status="confirmed",
            urgent=False,
            consult_mode="phone",
            patient_name="Top up",
            patient_email=f"topup{number}@example.com",
            patient_phone="+919876543210",
            preferred_channel="email",
            patient_timezone="Asia/Kolkata",
            booked_by="self",
            consent_health_at=now,
            consent_reminders=False,
            version=0,
            submission_key=f"topup-{number}",
            created_at=now,
        )
        claim_for(appointment)
        db.session.add(appointment)
    db.session.commit()  # the session hook bumps the schedule's version
    count = db.session.scalar(sa.select(sa.func.count(Appointment.id)).where(window)) or 0
    db.session.remove()
    return count
