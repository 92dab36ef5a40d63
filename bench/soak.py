"""``make soak``: a bounded fault run on loopback (3 to 5 minutes).

gunicorn (2 workers) on PostgreSQL and one ``worker`` process; 100 clients book for 60
seconds; meanwhile the SMTP sink is stopped for 20 seconds and the worker is killed with
SIGKILL once and restarted. Then the outbox drains (until no email has gone for a minute),
and the run prints bookings made, 5xx answers, double bookings, emails expected against
received, duplicate Message-IDs and the time the outbox took to drain, and exits non-zero if
any of them is wrong.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import time as clock

import sqlalchemy as sa

from bench.harness import (
    BIN,
    ROOT,
    add_consultants,
    app_for,
    free_port,
    fresh_database,
    migrate,
    postgres_reachable,
    server_env,
    start_gunicorn,
)
from booking.core.models import Appointment, OutboundEmail
from booking.extensions import db
from booking.messages.mailsink import start_sink

CLIENTS, SECONDS, BATCH = 100, 60, 20


def main() -> int:
    if not postgres_reachable():
        print("PostgreSQL is not reachable; the soak run needs it.")
        return 2
    url = fresh_database("postgresql", ROOT, "booking_soak")
    migrate(url)
    app = app_for(url)
    with app.app_context():
        add_consultants(20, days=range(7), start=clock(0), end=clock(23, 30))
        db.session.remove()
    mail_port, web_port = free_port(), free_port()
    env = server_env(
        url,
        web_port,
        MAIL_PORT=str(mail_port),
        MAIL_TIMEOUT="3s",
        OUTBOX_INTERVAL="1s",
        OUTBOX_LEASE="10s",
        OUTBOX_RETRY_BASE="1s",
        OUTBOX_BATCH_SIZE=str(BATCH),
    )
    controller, sink = start_sink("127.0.0.1", mail_port)
    web = start_gunicorn(env, web_port)

    def start_worker():
        return subprocess.Popen(
            [BIN / "flask", "--app", "booking", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )

    worker = start_worker()
    time.sleep(3)
    events = []

    def faults():
        nonlocal worker, controller, sink
        time.sleep(10)
        controller.stop()
        events.append("SMTP sink stopped at 10 s")
        time.sleep(20)
        received_before = sink.messages
        controller, sink = start_sink("127.0.0.1", mail_port)
        sink.messages.extend(received_before)
        events.append("SMTP sink back at 30 s")
        time.sleep(5)
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        events.append("worker killed with SIGKILL at 35 s")
        time.sleep(2)
        worker = start_worker()
        events.append("worker restarted at 37 s")

    chaos = threading.Thread(target=faults)
    chaos.start()
    load = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "post_load.py"),
            str(web_port),
            str(CLIENTS),
            str(SECONDS),
            "20",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    chaos.join()
    totals = json.loads(load.stdout)

    # Let the outbox drain: every row sent, or no row sent for 60 seconds (stuck: the longest
    # backoff a row can reach in the 20 s outage, with the retry base at 1 s, is 32 s). How
    # long it takes grows with the bookings made; the check is that nothing is lost.
    drain_started = time.monotonic()
    with app.app_context():
        last_progress, last_waiting = drain_started, None
        while time.monotonic() - last_progress < 60:
            waiting = db.session.scalar(
                sa.select(sa.func.count(OutboundEmail.id)).where(OutboundEmail.status != "sent")
            )
            db.session.rollback()
            if not waiting:
                break
            if waiting != last_waiting:
                last_progress, last_waiting = time.monotonic(), waiting
            time.sleep(1)
        drained_in = time.monotonic() - drain_started
        bookings = db.session.scalar(sa.select(sa.func.count(Appointment.id)))
        doubles = db.session.scalar(
            sa.text(
                "SELECT count(*) FROM (SELECT consultant_id, starts_at FROM appointment "
                "WHERE status != 'cancelled' GROUP BY consultant_id, starts_at "
                "HAVING count(*) > 1) AS d"
            )
        )
        expected = set(db.session.scalars(sa.select(OutboundEmail.message_id)))
        unsent = db.session.scalar(
            sa.select(sa.func.count(OutboundEmail.id)).where(OutboundEmail.status != "sent")
        )
        db.session.remove()
        db.engine.dispose()
    worker.terminate()
    web.terminate()
    worker.wait(timeout=30)
    web.wait(timeout=30)
    controller.stop()

    ids = Counter(message["Message-ID"] for message in sink.messages)
    received = set(ids)
    duplicates = sum(count - 1 for count in ids.values())
    missing = len(expected - received)
    checks = {
        "5xx responses = 0": totals["server_errors"] == 0,
        "double bookings = 0": doubles == 0,
        "every email received": missing == 0 and unsent == 0,
        # Each email is marked sent before the next goes: a kill resends the one in flight.
        "duplicate Message-IDs <= 1": duplicates <= 1,
        "bookings made > 0": bookings > 0,
    }
    for event in events:
        print(event)
    print(
        f"bookings made:          {bookings} ({totals['posts']} posts, "
        f"{totals['errors']} not redirected)"
    )
    print(f"5xx responses:          {totals['server_errors']}")
    print(f"double bookings:        {doubles}")
    print(f"emails expected:        {len(expected)}")
    print(f"emails received:        {len(received)} distinct, {missing} missing, {unsent} unsent")
    print(f"duplicate Message-IDs:  {duplicates}")
    print(f"outbox drained in:      {drained_in:.0f} s after the load")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
