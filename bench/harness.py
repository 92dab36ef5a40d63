"""The bench harness: settings, databases, the app, gunicorn and wrk, shared by every figure
and by ``make soak``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from datetime import time as clock
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet

from booking import create_app
from booking.core.models import Appointment, WeeklyHours
from booking.extensions import db
from booking.staff_accounts.accounts import new_staff_user
from config import ProductionConfig

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
KEY = Fernet.generate_key().decode()
SECRET = "bench-secret-" + "x" * 40
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def app_for(url: str, **overrides):
    settings = dict(
        SQLALCHEMY_DATABASE_URI=url,
        SECRET_KEY=SECRET,
        ENCRYPTION_KEYS=KEY,
        LOG_LEVEL="WARNING",
        BOOKING_RATE_LIMIT="1000000 per hour",
    )
    settings.update(overrides)
    return create_app(ProductionConfig, **settings)


def migrate(url: str) -> None:
    env = dict(
        os.environ,
        APP_ENV="production",
        DATABASE_URL=url,
        SECRET_KEY=SECRET,
        ENCRYPTION_KEYS=KEY,
        LOG_LEVEL="WARNING",
    )
    subprocess.run(
        [BIN / "flask", "--app", "booking", "db", "upgrade"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def fresh_database(backend: str, folder: Path, name: str = "booking_bench") -> str:
    if backend == "sqlite":
        return f"sqlite:///{folder / f'{name}.sqlite3'}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return PG_URL.rsplit("/", 1)[0] + f"/{name}"


def postgres_reachable() -> bool:
    engine = sa.create_engine(PG_URL)
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def add_consultants(count: int, days=range(5), start=clock(9), end=clock(17)) -> None:
    for number in range(count):
        user = new_staff_user(
            f"consultant{number}@bench.example",
            f"Dr Bench {number}",
            "staff",
            True,
            "bench password long enough",
        )
        user.hours = [WeeklyHours(weekday=d, start_time=start, end_time=end) for d in days]
        db.session.add(user)
    db.session.commit()


# --- HTTP, through gunicorn ----------------------------------------------------------------


def server_env(url: str, port: int, **settings: str) -> dict:
    """The environment of a production-like server process on ``port``."""
    return dict(
        os.environ,
        APP_ENV="production",
        DATABASE_URL=url,
        SECRET_KEY=SECRET,
        ENCRYPTION_KEYS=KEY,
        LOG_LEVEL="WARNING",
        BOOKING_RATE_LIMIT="1000000 per hour",
        BASE_URL=f"http://127.0.0.1:{port}",
        **settings,
    )


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    """gunicorn with 2 sync workers, as the README's production setup, on loopback."""
    server = subprocess.Popen(
        [
            BIN / "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "booking:create_app()",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    return server


def wrk(url: str, seconds: int = 8, connections: int = 8) -> dict:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)", output)
    return {
        "rps": rps,
        "errors": int(bad[1]) if bad else 0,
        "socket_errors": socket_errors[1] if socket_errors else "",
    }


def bulk_appointments(count: int, consultant_id: int, start: datetime, step: timedelta):
    rows = [
        {
            "reference": f"CT-{i:06d}",
            "consultant_id": consultant_id,
            "starts_at": start + step * i,
            "ends_at": start + step * i + timedelta(minutes=30),
            "status": "confirmed",
            "urgent": i % 50 == 0,
            "consult_mode": "phone",
            "patient_name": f"Patient {i}",
            "patient_email": f"p{i}@example.com",
            "patient_phone": "+919876543210",
            "preferred_channel": "email",
            "patient_timezone": "Asia/Kolkata",
            "booked_by": "self",
            "consent_health_at": start,
            "consent_reminders": True,
            "version": 0,
            "submission_key": f"bench-{i}",
            "created_at": start,
        }
        for i in range(count)
    ]
    for chunk in range(0, count, 20_000):
        db.session.execute(sa.insert(Appointment), rows[chunk : chunk + 20_000])
    db.session.execute(
        sa.text(
            "INSERT INTO intake (appointment_id, cancer_type, stage, diagnosed, treatments,"
            " has_insurance) SELECT id, CASE WHEN id % 3 = 0 THEN 'lymphoma' ELSE 'melanoma' END,"
            " '2', 'lt3m', 'interferon', 'no' FROM appointment"
        )
    )
    db.session.commit()


def fill_search_text() -> None:
    """The search column of bulk-inserted bookings, as the application writes it."""
    from types import SimpleNamespace

    from booking.appointments.search import search_text_for

    columns = (
        Appointment.id,
        Appointment.reference,
        Appointment.patient_name,
        Appointment.patient_email,
        Appointment.patient_phone,
        Appointment.booker_name,
        Appointment.booker_email,
        Appointment.booker_phone,
    )
    rows = db.session.execute(sa.select(*columns)).all()
    for chunk in range(0, len(rows), 20_000):
        db.session.execute(
            sa.update(Appointment),
            [
                {"id": row.id, "search_text": search_text_for(SimpleNamespace(**row._mapping))}
                for row in rows[chunk : chunk + 20_000]
            ],
        )
    db.session.commit()
