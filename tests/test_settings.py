"""Start-up: production refuses to run without its secrets; durations are checked."""

from datetime import timedelta

import pytest

from booking import create_app
from config import DevelopmentConfig, ProductionConfig
from tests.conftest import TEST_KEY


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
    from booking.accounts import new_staff_user

    app = create_app(
        ProductionConfig,
        SQLALCHEMY_DATABASE_URI="sqlite://",
        SECRET_KEY="s" * 40,
        ENCRYPTION_KEYS=TEST_KEY,
    )
    with app.app_context():
        user = new_staff_user("a@clinic.example", "A", "staff", False, "a long enough passphrase")
    assert user.password_hash.startswith("scrypt:")
