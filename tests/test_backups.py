"""Backups that restore: book, back up, lose the database, restore into an empty one, and
every booking, decrypted answer and waiting message is back, on both databases."""

from __future__ import annotations

import json
import stat
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from booking.core.models import Appointment, Intake, OutboundEmail
from booking.core.timeutil import now_utc
from booking.extensions import db
from tests.apps import make_app
from tests.clock import clinic_slot
from tests.databases import require_postgres, throwaway_database
from tests.factories import add_consultant, book_at_moment

HALF_HOUR = timedelta(minutes=30)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_databases(request, tmp_path):
    """The clinic's database, and the empty one it is restored into after losing the disk."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.sqlite3'}", f"sqlite:///{tmp_path / 'new.sqlite3'}"
        return
    require_postgres()
    with throwaway_database("backup_live") as live, throwaway_database("backup_new") as new:
        yield live, new


def run(app, command: str, folder):
    """``flask --app booking <command> FOLDER``, which runs inside the app's context."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=[command, str(folder)])


def what_is_stored() -> dict:
    """Every booking with its decrypted answers, and every message waiting to be sent."""
    bookings = db.session.scalars(sa.select(Appointment).order_by(Appointment.reference)).all()
    return {
        "bookings": [
            (a.reference, a.patient_email, a.intake.diagnosis_details, a.intake.own_questions)
            for a in bookings
        ],
        "waiting": sorted(
            db.session.execute(
                sa.select(OutboundEmail.kind, OutboundEmail.recipient).where(
                    OutboundEmail.status == "pending"
                )
            ).all()
        ),
    }


def test_a_backup_restores_every_booking_answer_and_waiting_message(two_databases, tmp_path):
    live_url, new_url = two_databases
    live = make_app(live_url)
    assert live.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with live.app_context():
        add_consultant()
        for index in range(3):
            book_at_moment(clinic_slot(3 + index), now_utc(), index=index)
        before = what_is_stored()
        assert len(before["bookings"]) == 3 and before["waiting"]
        db.session.remove()
    folder = tmp_path / "backup-1"
    made = run(live, "backup", folder)
    assert made.exit_code == 0, made.output
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["rows"]["appointment"] == 3 and manifest["revision"]
    # Readable by its owner only, and never the keys themselves.
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
        assert live.config["ENCRYPTION_KEYS"] not in path.read_bytes().decode("latin-1")
    with live.app_context():
        db.engine.dispose()

    # The disk is lost; a new machine has the keys (kept apart) and an empty database.
    new = make_app(new_url)
    restored = run(new, "restore", folder)
    assert restored.exit_code == 0, restored.output
    assert "every table has its rows" in restored.output
    with new.app_context():
        assert what_is_stored() == before
        db.session.remove()
        db.engine.dispose()
    assert new.test_cli_runner().invoke(args=["db", "check"]).exit_code == 0
    # A second restore over it is refused: restores go into an empty database only.
    again = run(new, "restore", folder)
    assert again.exit_code != 0 and "not empty" in again.output
    with new.app_context():
        db.engine.dispose()


def test_a_restore_without_the_keys_is_refused_before_it_starts(tmp_path):
    live = make_app(f"sqlite:///{tmp_path / 'live.sqlite3'}")
    assert live.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    folder = tmp_path / "backup"
    assert run(live, "backup", folder).exit_code == 0
    other_keys = make_app(
        f"sqlite:///{tmp_path / 'new.sqlite3'}", ENCRYPTION_KEYS=Fernet.generate_key().decode()
    )
    refused = run(other_keys, "restore", folder)
    assert refused.exit_code != 0 and "Restore the keys first" in refused.output
    with other_keys.app_context():
        assert not sa.inspect(db.engine).get_table_names()  # nothing was written
        db.engine.dispose()
    with live.app_context():
        db.engine.dispose()


def test_a_backup_taken_while_bookings_are_made_is_one_moment(two_databases, tmp_path):
    live_url, new_url = two_databases
    live = make_app(live_url)
    assert live.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with live.app_context():
        add_consultant()
        db.session.remove()
    stop = threading.Event()

    def keep_booking():
        with live.app_context():
            index = 0
            while not stop.is_set() and index < 200:
                book_at_moment(
                    clinic_slot(2 + index // 40, hour=0) + (index % 40) * HALF_HOUR,
                    now_utc(),
                    index=index,
                )
                index += 1
            db.session.remove()

    booker = threading.Thread(target=keep_booking)
    booker.start()
    try:
        time.sleep(0.3)  # bookings are being made
        made = run(live, "backup", tmp_path / "during")
    finally:
        stop.set()
        booker.join(timeout=60)
    assert made.exit_code == 0, made.output
    new = make_app(new_url)
    restored = run(new, "restore", tmp_path / "during")
    assert restored.exit_code == 0, restored.output  # every table as the manifest counted
    with new.app_context():
        bookings = db.session.scalar(sa.select(sa.func.count(Appointment.id)))
        with_answers = db.session.scalar(sa.select(sa.func.count()).select_from(Intake))
        assert bookings > 0 and bookings == with_answers  # no booking without its answers
        db.session.remove()
        db.engine.dispose()
    with live.app_context():
        db.engine.dispose()
