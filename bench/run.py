"""``make bench``: how fast the service is, each figure also as a ratio to a baseline measured
in the same run (these machines are noisy; ratios travel, absolute numbers do not).

HTTP figures come from gunicorn (2 sync workers) on SQLite in WAL mode, and on PostgreSQL when
it is reachable, loaded from separate processes on loopback (wrk for GETs, bench/post_load.py
for bookings). The other figures run the domain functions in this process. The table is
printed and written to bench/results/latest.json.
"""

from __future__ import annotations

import json
import os
import platform
import re
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from cryptography.fernet import Fernet  # noqa: E402

from booking import create_app  # noqa: E402
from booking.accounts import new_staff_user  # noqa: E402
from booking.availability import free_slots, slot_rules  # noqa: E402
from booking.extensions import db  # noqa: E402
from booking.mailsink import start_sink  # noqa: E402
from booking.models import Appointment, OutboundEmail, Reminder, StaffUser, WeeklyHours  # noqa: E402
from booking.notifications import Email  # noqa: E402
from booking.outbox import build_message, dispatch_outbox, enqueue  # noqa: E402
from booking.reminders import queue_due_reminders  # noqa: E402
from config import ProductionConfig  # noqa: E402

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


def _bulk_appointments(count: int, consultant_id: int, start: datetime, step: timedelta):
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
        _bulk_appointments(appointments, consultant, now + timedelta(days=1), timedelta(minutes=30))
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


def staff_list_bench(folder: Path, count: int) -> dict:
    url = f"sqlite:///{folder / f'list-{count}.sqlite3'}"
    migrate(url)
    app = app_for(url, WTF_CSRF_ENABLED=False, SESSION_COOKIE_SECURE=False)
    with app.app_context():
        add_consultants(1, days=range(7), start=clock(0), end=clock(23, 30))
        _bulk_appointments(count, 1, datetime(2026, 1, 1, tzinfo=UTC), timedelta(minutes=30))
        db.session.add(
            new_staff_user(
                "desk@bench.example", "Desk", "staff", False, "bench password long enough"
            )
        )
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    client.post(
        "/staff/login",
        data={"email": "desk@bench.example", "password": "bench password long enough"},
    )
    url = "/staff/appointments?cancer_type=lymphoma&urgent=yes&page=2&per_page=25"
    assert client.get(url).status_code == 200
    timings = []
    for _ in range(60):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    with app.app_context():
        db.engine.dispose()
    timings.sort()
    return {"p50_ms": timings[len(timings) // 2], "p95_ms": timings[int(len(timings) * 0.95)]}


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
        rules = slot_rules(app.config)
        timings = []
        for _ in range(10):
            started = time.perf_counter()
            free_slots(db.session, rules, now)
            timings.append(time.perf_counter() - started)
        db.session.remove()
        db.engine.dispose()
    return statistics.median(timings)


def main() -> None:
    results: dict = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}",
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        backends = ["sqlite"] + (["postgresql"] if postgres_reachable() else [])
        for backend in backends:
            print(f"HTTP on {backend} ...", flush=True)
            results[f"http_{backend}"] = http_bench(backend, folder)
        print("outbox ...", flush=True)
        results["outbox"] = outbox_bench(folder)
        print("reminders ...", flush=True)
        small, large = reminder_bench(folder, 10_000), reminder_bench(folder, 1_000_000)
        results["reminders"] = {"run_s_10k": small, "run_s_1m": large, "growth": large / small}
        print("staff list ...", flush=True)
        small_list, large_list = staff_list_bench(folder, 10_000), staff_list_bench(folder, 100_000)
        results["staff_list"] = {
            "10k": small_list,
            "100k": large_list,
            "growth_p50": large_list["p50_ms"] / small_list["p50_ms"],
        }
        print("free slots ...", flush=True)
        results["free_slots_s"] = slots_bench(folder)
    out = ROOT / "bench" / "results" / "latest.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)
    print(f"\nWritten to {out.relative_to(ROOT)}")


def print_table(r: dict) -> None:
    rows = [("Figure", "Value", "Ratio / goal")]
    for backend in ("sqlite", "postgresql"):
        h = r.get(f"http_{backend}")
        if not h:
            continue
        rows += [
            (f"[{backend}] GET /healthz", f"{h['healthz_rps']:.0f} req/s", "baseline"),
            (
                f"[{backend}] GET /book",
                f"{h['get_book_rps']:.0f} req/s",
                f"{h['get_book_ratio']:.2f} of /healthz (goal >= 0.25), "
                f"{h['get_book_errors']} errors",
            ),
            (
                f"[{backend}] POST /book",
                f"{h['post_book_rps']:.0f} req/s",
                f"{h['post_book_ratio']:.2f} of /healthz (goal >= 0.12), "
                f"{h['post_book_errors']} errors",
            ),
            (
                f"[{backend}] bookings / double bookings",
                f"{h['bookings_made']}",
                f"{h['double_bookings']} double (must be 0)",
            ),
        ]
    o = r["outbox"]
    rows.append(
        (
            f"Outbox, {o['emails']} emails",
            f"{o['outbox_per_s']:.0f}/s",
            f"{o['outbox_ratio']:.2f} of smtplib {o['smtplib_per_s']:.0f}/s (goal >= 0.6)",
        )
    )
    m = r["reminders"]
    rows.append(
        (
            "Reminder job, 10k / 1M rows",
            f"{m['run_s_10k'] * 1000:.0f} / {m['run_s_1m'] * 1000:.0f} ms",
            f"growth {m['growth']:.2f}x (goal < 1.5x)",
        )
    )
    s = r["staff_list"]
    rows.append(
        (
            "Staff list p50/p95, 10k rows",
            f"{s['10k']['p50_ms']:.1f} / {s['10k']['p95_ms']:.1f} ms",
            "",
        )
    )
    rows.append(
        (
            "Staff list p50/p95, 100k rows",
            f"{s['100k']['p50_ms']:.1f} / {s['100k']['p95_ms']:.1f} ms",
            f"growth {s['growth_p50']:.2f}x (goal p95 < 50 ms, growth < 1.5x)",
        )
    )
    rows.append(
        (
            "Free slots, 30 days, 10 consultants, 10k bookings",
            f"{r['free_slots_s'] * 1000:.0f} ms",
            "",
        )
    )
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for number, row in enumerate(rows):
        print("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)))
        if number == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
