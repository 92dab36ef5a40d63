"""GET and POST /book through gunicorn, against /healthz in the same run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from bench.harness import (
    ROOT,
    add_consultants,
    app_for,
    free_port,
    fresh_database,
    migrate,
    server_env,
    start_gunicorn,
    wrk,
)
from booking.extensions import db
from booking.models import Appointment


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
        load = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "post_load.py"), str(port), "8", "10", "10"],
            capture_output=True,
            text=True,
            check=True,
        )
        posts = json.loads(load.stdout)
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
    post_rps = posts["posts"] / posts["seconds"]
    return {
        "healthz_rps": health["rps"],
        "get_book_rps": form["rps"],
        "get_book_ratio": form["rps"] / health["rps"],
        "get_book_errors": form["errors"],
        "post_book_rps": post_rps,
        "post_book_ratio": post_rps / health["rps"],
        "post_book_errors": posts["errors"],
        "bookings_made": booked,
        "double_bookings": doubles,
    }


# --- In-process figures (SQLite file, WAL) --------------------------------------------------
