"""Start-up: production refuses to run without its secrets; durations are checked."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from booking import create_app
from config import DevelopmentConfig, ProductionConfig
from tests.apps import TEST_KEY, free_port


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        ({"SECRET_KEY": None, "ENCRYPTION_KEYS": None}, "SECRET_KEY and ENCRYPTION_KEYS"),
        ({"SECRET_KEY": "s" * 40, "ENCRYPTION_KEYS": None}, "ENCRYPTION_KEYS"),
        ({"SECRET_KEY": None, "ENCRYPTION_KEYS": TEST_KEY}, "SECRET_KEY"),
    ],
)
def test_production_names_each_missing_secret(settings, missing):
    with pytest.raises(RuntimeError, match=f"set {missing} in the environment"):
        create_app(ProductionConfig, SQLALCHEMY_DATABASE_URI="sqlite://", **settings)


def test_production_starts_with_its_secrets():
    app = create_app(
        ProductionConfig,
        SQLALCHEMY_DATABASE_URI="sqlite://",
        SECRET_KEY="s" * 40,
        ENCRYPTION_KEYS=TEST_KEY,
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_malformed_key_stops_start_up():
    with pytest.raises(RuntimeError, match="not a Fernet key"):
        create_app(ProductionConfig, SECRET_KEY="s" * 40, ENCRYPTION_KEYS="not-a-key")


def test_development_generates_its_keys_and_database_into_instance(tmp_path):
    def build():
        return create_app(
            DevelopmentConfig,
            instance_path=str(tmp_path),
            SQLALCHEMY_DATABASE_URI=None,
            SECRET_KEY=None,
            ENCRYPTION_KEYS=None,
        )

    first = build()
    key_file = tmp_path / "encryption_keys"
    assert key_file.read_text() == first.config["ENCRYPTION_KEYS"]
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/booking.sqlite3"
    # The next start reads the same keys: data written before stays readable.
    second = build()
    assert second.config["ENCRYPTION_KEYS"] == first.config["ENCRYPTION_KEYS"]
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]


def test_development_files_with_patient_data_are_the_owner_s_only(tmp_path):
    import smtplib

    import sqlalchemy as sa

    from booking.extensions import db
    from booking.messages.mailsink import start_sink

    instance = tmp_path / "instance"
    app = create_app(
        DevelopmentConfig,
        instance_path=str(instance),
        SQLALCHEMY_DATABASE_URI=None,
        SECRET_KEY=None,
        ENCRYPTION_KEYS=None,
    )
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE patient_note (text TEXT)"))
        db.session.execute(sa.text("INSERT INTO patient_note VALUES ('Asha')"))
        db.session.commit()
        files = {path.name: path.stat().st_mode & 0o777 for path in instance.iterdir()}
        db.session.remove()
        db.engine.dispose()
    assert instance.stat().st_mode & 0o777 == 0o700
    assert files["booking.sqlite3"] == 0o600 and files["booking.sqlite3-wal"] == 0o600
    controller, _ = start_sink("127.0.0.1", free_port(), instance / "mail")
    try:
        with smtplib.SMTP(controller.hostname, controller.port) as smtp:
            smtp.sendmail("a@clinic.example", ["b@example.com"], b"Subject: x\r\n\r\nAsha\r\n")
    finally:
        controller.stop()
    (eml,) = (instance / "mail").glob("*.eml")
    assert (instance / "mail").stat().st_mode & 0o777 == 0o700
    assert eml.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("BOOKING_MIN_NOTICE", "90m", timedelta(minutes=90)),
        ("BOOKING_HORIZON", "30d", timedelta(days=30)),
        (
            "REMINDER_OFFSETS",
            "24h, 2h,90m",
            [timedelta(hours=24), timedelta(hours=2), timedelta(minutes=90)],
        ),
        ("REMINDER_OFFSETS", "2d,1h30m", [timedelta(days=2), timedelta(minutes=90)]),
    ],
)
def test_durations_are_parsed(setting, value, expected):
    app = create_app(
        ProductionConfig,
        SQLALCHEMY_DATABASE_URI="sqlite://",
        SECRET_KEY="s" * 40,
        ENCRYPTION_KEYS=TEST_KEY,
        **{setting: value},
    )
    assert app.config[setting] == expected


@pytest.mark.parametrize("value", ["24", "2 hours", "h", "-2h", ""])
def test_bad_durations_stop_start_up_with_the_setting_named(value):
    with pytest.raises(ValueError, match="BOOKING_MIN_NOTICE"):
        create_app(
            ProductionConfig,
            SQLALCHEMY_DATABASE_URI="sqlite://",
            SECRET_KEY="s" * 40,
            ENCRYPTION_KEYS=TEST_KEY,
            BOOKING_MIN_NOTICE=value,
        )


def test_production_refuses_a_short_secret_key():
    with pytest.raises(RuntimeError, match="at least 32 characters"):
        create_app(
            ProductionConfig,
            SQLALCHEMY_DATABASE_URI="sqlite://",
            SECRET_KEY="s" * 31,
            ENCRYPTION_KEYS=TEST_KEY,
        )


def test_staff_passwords_are_hashed_with_scrypt_outside_the_tests():
    """The tests use a cheap hash for speed; every other environment must not."""
    from booking.staff_accounts.accounts import new_staff_user

    app = create_app(
        ProductionConfig,
        SQLALCHEMY_DATABASE_URI="sqlite://",
        SECRET_KEY="s" * 40,
        ENCRYPTION_KEYS=TEST_KEY,
    )
    with app.app_context():
        user = new_staff_user("a@clinic.example", "A", "staff", False, "a long enough passphrase")
    assert user.password_hash.startswith("scrypt:")


@pytest.mark.real_clock  # waits on gunicorn, a subprocess
@pytest.mark.parametrize(
    ("storage", "workers", "warned"),
    [("", 2, True), ("memory://", 1, False), ("redis://127.0.0.1:6379/0", 2, False)],
)
def test_gunicorn_warns_when_several_workers_count_rate_limits_alone(storage, workers, warned):
    """The repository's gunicorn.conf.py, read by gunicorn itself at start-up. The app name
    does not matter: the warning comes from the master, before the workers load anything."""
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ, RATELIMIT_STORAGE_URI=storage)
    started = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{free_port()}",
            "--timeout",
            "5",
            "no_such_module:app",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Booting worker" in started.stderr or "Listening at" in started.stderr
    assert ("each worker counts the rate limits on its own" in started.stderr) is warned
