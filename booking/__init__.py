"""The consult booking and intake service: ``create_app`` builds the Flask app."""

import logging
import os
import secrets
import sqlite3
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config, config_for_environment

from .core import crypto
from .core.durations import parse_duration, parse_duration_list
from .core.timeutil import clinic_time, format_waiting, is_known_timezone, now_utc
from .extensions import csrf, db, limiter, login_manager, mail, migrate


def create_app(
    config: type[Config] | None = None, instance_path: str | None = None, **overrides
) -> Flask:
    """Build the app from a config class (``APP_ENV`` by default) and keyword overrides.

    ``INSTANCE_PATH`` moves development's database, generated keys and mail folder out of the
    checkout's ``instance/`` (a second copy of the service, or a test, keeps its own)."""
    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(config or config_for_environment())
    app.config.update(overrides)
    load_instance_defaults(app)
    check_required_settings(app)
    parse_settings(app)
    configure_logging(app)

    register_extensions(app)
    register_blueprints(app)
    register_template_helpers(app)
    register_security(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def load_instance_defaults(app: Flask) -> None:
    """Development keeps its database and generated keys in ``instance/``. They hold patient
    data and the keys to it, so the folder and every file in it are the owner's only (SQLite
    gives its -wal and -shm files the database file's permissions)."""
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        _private_instance(app)
        path = Path(app.instance_path) / "booking.sqlite3"
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    if not app.config.get("GENERATE_DEV_SECRETS"):
        return
    _private_instance(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app, "secret_key", secrets.token_hex(32))
    if not app.config.get("ENCRYPTION_KEYS"):
        app.config["ENCRYPTION_KEYS"] = _instance_secret(
            app, "encryption_keys", crypto.generate_key()
        )


def _private_instance(app: Flask) -> None:
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    os.chmod(app.instance_path, 0o700)


def _instance_secret(app: Flask, name: str, fresh: str) -> str:
    """Read a generated secret from ``instance/``, writing it (owner-only) the first time."""
    path = Path(app.instance_path) / name
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(fresh)
    return path.read_text().strip()


def check_required_settings(app: Flask) -> None:
    """Refuse to start without the secrets, naming each one that is missing."""
    missing = [name for name in ("SECRET_KEY", "ENCRYPTION_KEYS") if not app.config.get(name)]
    if missing:
        raise RuntimeError(
            "Refusing to start: set "
            + " and ".join(missing)
            + " in the environment (see the README's configuration table)."
        )
    if app.config["IS_PRODUCTION"] and len(app.config["SECRET_KEY"]) < 32:
        raise RuntimeError(
            "Refusing to start: SECRET_KEY must be at least 32 characters (it signs sessions)."
        )


def parse_settings(app: Flask) -> None:
    """Turn duration strings into timedeltas once, so a typo fails at start-up."""
    for name in (
        "BOOKING_MIN_NOTICE",
        "BOOKING_HORIZON",
        "OUTBOX_LEASE",
        "OUTBOX_RETRY_BASE",
        "OUTBOX_INTERVAL",
        "REMINDER_INTERVAL",
        "URGENT_CHECK_INTERVAL",
        "RETENTION_INTERVAL",
        "STAFF_SESSION_MAX",
        "MAIL_TIMEOUT",
        "PROVIDER_TIMEOUT",
    ):
        value = app.config[name]
        if isinstance(value, str):
            app.config[name] = parse_duration(value, name)
    offsets = app.config["REMINDER_OFFSETS"]
    if isinstance(offsets, str):
        app.config["REMINDER_OFFSETS"] = parse_duration_list(offsets, "REMINDER_OFFSETS")
    for name in ("STAFF_NOTIFY_EMAILS", "URGENT_ESCALATION_EMAILS", "EMERGENCY_NUMBERS"):
        if isinstance(app.config[name], str):
            app.config[name] = [
                item.strip() for item in app.config[name].split(",") if item.strip()
            ]
    if not app.config["URGENT_ESCALATION_EMAILS"]:
        app.config["URGENT_ESCALATION_EMAILS"] = list(app.config["STAFF_NOTIFY_EMAILS"])
    if not app.config["EMERGENCY_NUMBERS"]:
        raise RuntimeError("EMERGENCY_NUMBERS must name at least one number, e.g. 112,108")
    if app.config["URGENT_ACK_MINUTES"] < 1:
        raise RuntimeError("URGENT_ACK_MINUTES must be at least 1")
    if not 1 <= app.config["HOLD_MINUTES"] <= 120:
        raise RuntimeError("HOLD_MINUTES must be between 1 and 120")
    if app.config["CONSULT_MINUTES"] < 5:
        raise RuntimeError("CONSULT_MINUTES must be at least 5")
    app.config["BASE_URL"] = app.config["BASE_URL"].rstrip("/")
    if not is_known_timezone(app.config["CLINIC_TIMEZONE"]):
        raise RuntimeError(f"CLINIC_TIMEZONE={app.config['CLINIC_TIMEZONE']!r} is not a known zone")
    app.config["CLINIC_TZ"] = ZoneInfo(app.config["CLINIC_TIMEZONE"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        # Wait for a busy writer instead of failing at once; the pragmas are set on connect.
        options.setdefault("connect_args", {"timeout": 30})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def configure_logging(app: Flask) -> None:
    from .web import request_log
    from .web.request_log import HidePrivateUrlParts

    for name in ("werkzeug", "gunicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, HidePrivateUrlParts) for f in logger.filters):
            logger.addFilter(HidePrivateUrlParts())
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app.logger.setLevel(app.config["LOG_LEVEL"])
    # A line per job run and per SMTP connection would bury the lines that matter; a run
    # skipped because the previous one is still sending is normal, not a warning.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    request_log.register(app)


def register_extensions(app: Flask) -> None:
    crypto.init_app(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    # Mapper events that keep each booking's search text current, wherever it is written.
    from .appointments import search  # noqa: F401

    login_manager.init_app(app)
    login_manager.login_view = "staff.login"
    if app.config["TRUSTED_PROXY_COUNT"]:
        count = app.config["TRUSTED_PROXY_COUNT"]
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count
        )


def register_blueprints(app: Flask) -> None:
    from .public import bp as public_bp
    from .staff import bp as staff_bp
    from .web import assets
    from .web.health import bp as health_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(health_bp)
    assets.init_app(app)


def register_template_helpers(app: Flask) -> None:
    from .intake import choices

    @app.template_global()
    def choices_label(name: str, value: str | None) -> str:
        """The label of a stored answer, e.g. ``choices_label('STAGES', '3')``."""
        return choices.label(getattr(choices, name), value)

    # The red-flag groups and other answer lists, for pages and emails that list them.
    app.jinja_env.globals["choices"] = choices

    app.add_template_filter(clinic_time)
    from .core import plain_words
    from .messages.kinds import email_kind_words

    for name in ("action_words", "email_status_words", "channel_words"):
        app.add_template_filter(getattr(plain_words, name))
    app.add_template_filter(email_kind_words)
    app.add_template_filter(plain_words.readable, "readable_log")
    # Phone numbers are stored in E.164 (+919876543210) and read as people write them.
    from .core.phones import phone_hint, readable_phone

    app.add_template_filter(readable_phone)

    @app.template_global("phone_hint")
    def _phone_hint(zone_name: str | None) -> str:
        return phone_hint(zone_name, app.config["DEFAULT_PHONE_REGION"])

    # Whom staff call about a booking: the relative, when the messages go to them.
    from .messages.readers import messages_to_words, numbers_to_call

    app.jinja_env.globals["numbers_to_call"] = numbers_to_call
    app.jinja_env.globals["messages_to_words"] = messages_to_words

    @app.template_filter()
    def waiting(since):
        """How long ago ``since`` was, e.g. ``1 h 05 min``: for the urgent call-back list."""
        return format_waiting(now_utc() - since)


def register_security(app: Flask) -> None:
    from .web.security_headers import add_security_headers

    app.after_request(add_security_headers)


def register_errorhandlers(app: Flask) -> None:
    from .web import database_failures, errors, metrics

    errors.register(app)
    database_failures.register(app)
    metrics.register(app)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL lets readers work while one writer commits; foreign keys are off by default."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
