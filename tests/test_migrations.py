"""The migrations build the whole schema on an empty database and match the models exactly."""

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import PreVisitQuestion
from booking.tokens import find_by_token, hash_token
from tests.conftest import PG_URL, make_app, postgres_reachable


def upgrade_and_check(url: str):
    app = make_app(url)
    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output
    with app.app_context():
        questions = db.session.scalars(sa.select(PreVisitQuestion)).all()
        general = [q for q in questions if not q.cancer_type and not q.treatment]
        assert any("specific type of cytokine therapy" in q.text for q in general)
        assert {q.cancer_type for q in questions} >= {"melanoma", "renal_cell", None}
        db.session.remove()
        db.engine.dispose()


def test_sqlite_upgrade_then_check(tmp_path):
    upgrade_and_check(f"sqlite:///{tmp_path / 'empty.sqlite3'}")


@pytest.mark.postgres
def test_postgresql_upgrade_then_check():
    if not postgres_reachable():
        pytest.fail(f"PostgreSQL not reachable at {PG_URL}")
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text("DROP DATABASE IF EXISTS booking_migration_check WITH (FORCE)"))
        connection.execute(sa.text("CREATE DATABASE booking_migration_check"))
    url = PG_URL.rsplit("/", 1)[0] + "/booking_migration_check"
    try:
        upgrade_and_check(url)
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text("DROP DATABASE IF EXISTS booking_migration_check WITH (FORCE)")
            )
        admin.dispose()


def test_upgrading_keeps_every_booking_and_its_manage_link(tmp_path):
    """0001 to 0002 rebuilds tables on SQLite; no booking, reminder or link may be lost."""
    app = make_app(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0001"]).exit_code == 0
    with app.app_context():
        statements = [
            "INSERT INTO staff_user (email, name, password_hash, role, is_consultant, active,"
            " failed_logins, session_version, created_at)"
            " VALUES ('dr@c.example', 'Dr', 'x', 'staff', 1, 1, 0, 1, '2027-01-01 00:00:00')",
            "INSERT INTO appointment (reference, consultant_id, starts_at, ends_at, status, urgent,"
            " consult_mode, patient_name, patient_email, patient_phone, preferred_channel,"
            " patient_timezone, booked_by, consent_health_at, consent_reminders, version,"
            " manage_token_hash, submission_key, created_at) VALUES ('CT-AAAAAA', 1,"
            " '2027-01-05 04:30:00', '2027-01-05 05:00:00', 'confirmed', 0, 'phone', 'P',"
            " 'p@example.com', '+919876543210', 'email', 'UTC', 'self', '2027-01-01 00:00:00', 1,"
            f" 0, '{hash_token('x' * 43)}', 'key', '2027-01-01 00:00:00')",
            "INSERT INTO intake (appointment_id, cancer_type, stage, diagnosed, treatments,"
            " has_insurance) VALUES (1, 'lymphoma', '2', 'lt3m', 'none', 'no')",
            "INSERT INTO reminder (appointment_id, offset_minutes, due_at, status)"
            " VALUES (1, 120, '2027-01-05 02:30:00', 'pending')",
        ]
        for statement in statements:
            db.session.execute(sa.text(statement))
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        for table in ("appointment", "intake", "reminder", "manage_token"):
            count = db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            assert count == 1, table
        assert find_by_token(db.session, "x" * 43).reference == "CT-AAAAAA"
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    """The URL of an empty database with no schema at all, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'existing.sqlite3'}"
        return
    if not postgres_reachable():
        pytest.fail(f"PostgreSQL not reachable at {PG_URL}")
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    drop = sa.text("DROP DATABASE IF EXISTS booking_existing_data WITH (FORCE)")
    with admin.connect() as connection:
        connection.execute(drop)
        connection.execute(sa.text("CREATE DATABASE booking_existing_data"))
    yield PG_URL.rsplit("/", 1)[0] + "/booking_existing_data"
    with admin.connect() as connection:
        connection.execute(drop)
    admin.dispose()


def test_0004_puts_urgent_bookings_already_made_on_the_call_back_list(empty_database):
    """Bookings made before the checklist keep their answers; the urgent, still confirmed ones
    wait for a call-back, without escalation emails for all of them on the first run."""
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0003"]).exit_code == 0
    with app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO staff_user (email, name, password_hash, role, is_consultant, active,"
                " failed_logins, session_version, created_at) VALUES ('dr@c.example', 'Dr', 'x',"
                " 'staff', true, true, 0, 1, '2026-11-01 00:00:00+00')"
            )
        )
        for index, (status, urgent) in enumerate(
            [("confirmed", True), ("cancelled", True), ("confirmed", False)]
        ):
            db.session.execute(
                sa.text(
                    "INSERT INTO appointment (reference, consultant_id, starts_at, ends_at,"
                    " status, urgent, consult_mode, patient_name, patient_email, patient_phone,"
                    " preferred_channel, patient_timezone, booked_by, consent_health_at,"
                    " consent_reminders, version, submission_key, created_at) VALUES (:ref, 1,"
                    " :start, :end, :status, :urgent, 'phone', 'P', 'p@example.com',"
                    " '+919876543210', 'email', 'UTC', 'self', '2026-11-01 00:00:00+00', true, 0,"
                    " :key, '2026-11-01 00:00:00+00')"
                ),
                {
                    "ref": f"CT-AAAAA{index}",
                    "start": f"2027-01-0{index + 5} 04:30:00+00",
                    "end": f"2027-01-0{index + 5} 05:00:00+00",
                    "status": status,
                    "urgent": urgent,
                    "key": f"key-{index}",
                },
            )
            db.session.execute(
                sa.text(
                    "INSERT INTO intake (appointment_id, cancer_type, stage, diagnosed,"
                    " treatments, has_insurance) VALUES (:id, 'lymphoma', '2', 'lt3m', 'none',"
                    " 'no')"
                ),
                {"id": index + 1},
            )
        db.session.commit()
        db.session.remove()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output
    with app.app_context():
        cases = db.session.execute(
            sa.text(
                "SELECT a.reference, c.closed_at, c.next_escalation_at, c.escalations"
                " FROM urgent_case c JOIN appointment a ON a.id = c.appointment_id"
            )
        ).all()
        assert [tuple(case) for case in cases] == [("CT-AAAAA0", None, None, 0)]
        assert db.session.scalar(sa.text("SELECT count(*) FROM intake")) == 3
        assert (
            db.session.scalar(sa.text("SELECT count(*) FROM intake WHERE red_flags IS NULL")) == 3
        )
        db.session.remove()
        db.engine.dispose()
