"""Configuration classes read from the environment.

``APP_ENV`` picks the class (``development`` by default, ``production``, ``testing``). Every
setting is listed, with its default and meaning, in the README's configuration table.
Durations are written like ``90m``, ``2h`` or ``30d`` and parsed when the app starts, so a
typo stops start-up instead of silently meaning zero.
"""

import os
from typing import overload


@overload
def env(name: str, default: str) -> str: ...
@overload
def env(name: str, default: None = None) -> str | None: ...


def env(name: str, default: str | None = None) -> str | None:
    """Read one setting; an empty value counts as unset so ``FOO=`` means the default."""
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Settings shared by every environment."""

    SECRET_KEY = env("SECRET_KEY")
    ENCRYPTION_KEYS = env("ENCRYPTION_KEYS")
    SQLALCHEMY_DATABASE_URI = env("DATABASE_URL")
    BASE_URL = env("BASE_URL", "http://127.0.0.1:5000")

    CLINIC_NAME = env("CLINIC_NAME", "Cancer Care Clinic")
    CLINIC_PHONE = env("CLINIC_PHONE", "+91 99 3070 9000")
    CLINIC_EMAIL = env("CLINIC_EMAIL", "consults@clinic.example")
    CLINIC_TIMEZONE = env("CLINIC_TIMEZONE", "Asia/Kolkata")
    CLINIC_PHONE_HOURS = env("CLINIC_PHONE_HOURS", "Mon-Sat 09:00-18:00")
    # The name a patient who may not yet know their diagnosis sees as the sender, in the
    # signature and on the calendar entry: no word in it may name the illness.
    CLINIC_NEUTRAL_NAME = env("CLINIC_NEUTRAL_NAME", "Consult booking")
    # Shown before the form and in every patient email: India's emergency number and ambulance,
    # and Tele-MANAS, the free 24-hour mental-health line.
    EMERGENCY_NUMBERS = env("EMERGENCY_NUMBERS", "112,108")
    CRISIS_LINE = env("CRISIS_LINE", "14416")
    CRISIS_LINE_OTHER = env("CRISIS_LINE_OTHER", "1-800-891-4416")
    CRISIS_LINE_NAME = env("CRISIS_LINE_NAME", "Tele-MANAS")
    DEFAULT_PHONE_REGION = env("DEFAULT_PHONE_REGION", "IN")

    CONSULT_MINUTES = int(env("CONSULT_MINUTES", "30"))
    BOOKING_MIN_NOTICE = env("BOOKING_MIN_NOTICE", "2h")
    BOOKING_HORIZON = env("BOOKING_HORIZON", "30d")
    REMINDER_OFFSETS = env("REMINDER_OFFSETS", "24h,2h")
    CHANGE_CUTOFF_HOURS = int(env("CHANGE_CUTOFF_HOURS", "4"))

    STAFF_NOTIFY_EMAILS = env("STAFF_NOTIFY_EMAILS", "reception@clinic.example")
    # An urgent booking nobody has called back within this many minutes is escalated by email
    # to these addresses (the staff notification addresses when unset), again each period.
    URGENT_ACK_MINUTES = int(env("URGENT_ACK_MINUTES", "60"))
    URGENT_ESCALATION_EMAILS = env("URGENT_ESCALATION_EMAILS")

    MAIL_SERVER = env("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(env("MAIL_PORT", "8025"))
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = env("MAIL_USERNAME")
    MAIL_PASSWORD = env("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = env("MAIL_DEFAULT_SENDER", "consults@clinic.example")
    MAIL_TIMEOUT = env("MAIL_TIMEOUT", "20s")
    # Flask-Mail would silently drop every email under TESTING; the tests use a real server.
    MAIL_SUPPRESS_SEND = False

    # WhatsApp Business Cloud API (messages/whatsapp.py). A channel with a setting missing is
    # off: its readers get email only, and the staff home page says why.
    WHATSAPP_API_URL = env("WHATSAPP_API_URL", "https://graph.facebook.com/v21.0")
    WHATSAPP_PHONE_NUMBER_ID = env("WHATSAPP_PHONE_NUMBER_ID")
    WHATSAPP_TOKEN = env("WHATSAPP_TOKEN")
    WHATSAPP_APP_SECRET = env("WHATSAPP_APP_SECRET")
    WHATSAPP_VERIFY_TOKEN = env("WHATSAPP_VERIFY_TOKEN")
    # The registered templates' language code, and a prefix of their names (README lists them).
    WHATSAPP_LANGUAGE = env("WHATSAPP_LANGUAGE", "en")
    WHATSAPP_TEMPLATE_PREFIX = env("WHATSAPP_TEMPLATE_PREFIX", "consult_")
    # SMS through Twilio's Messages API (messages/sms.py), with India's DLT registration: the
    # Principal Entity ID, and each text's template id (SMS_DLT_TEMPLATE_IDS, kind=id,...).
    TWILIO_API_URL = env("TWILIO_API_URL", "https://api.twilio.com")
    TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")
    TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")
    TWILIO_FROM = env("TWILIO_FROM")
    SMS_DLT_ENTITY_ID = env("SMS_DLT_ENTITY_ID")
    SMS_DLT_TEMPLATE_IDS = env("SMS_DLT_TEMPLATE_IDS")
    PROVIDER_TIMEOUT = env("PROVIDER_TIMEOUT", "15s")

    OUTBOX_BATCH_SIZE = int(env("OUTBOX_BATCH_SIZE", "50"))
    OUTBOX_MAX_ATTEMPTS = int(env("OUTBOX_MAX_ATTEMPTS", "8"))
    OUTBOX_LEASE = env("OUTBOX_LEASE", "5m")
    OUTBOX_RETRY_BASE = env("OUTBOX_RETRY_BASE", "1m")
    OUTBOX_INTERVAL = env("OUTBOX_INTERVAL", "10s")
    REMINDER_INTERVAL = env("REMINDER_INTERVAL", "1m")
    URGENT_CHECK_INTERVAL = env("URGENT_CHECK_INTERVAL", "1m")

    RATELIMIT_STORAGE_URI = env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down must not take booking and sign-in down with it: count in memory meanwhile.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    BOOKING_RATE_LIMIT = env("BOOKING_RATE_LIMIT", "20 per hour")
    # One address may hold this many upcoming consults: enough for a family booking for two
    # relatives, too few for one sender to fill the calendar or mail strangers repeatedly.
    MAX_BOOKINGS_PER_EMAIL = int(env("MAX_BOOKINGS_PER_EMAIL", "2"))
    # A chosen time is held this long for the browser that chose it, while the form is filled.
    HOLD_MINUTES = int(env("HOLD_MINUTES", "15"))
    # Others' live holds may cover at most this share of a day's times (and always this many):
    # a few addresses cannot hold the coming days empty (scheduling/holds.py, crowded).
    HOLD_SHARE_PER_DAY = float(env("HOLD_SHARE_PER_DAY", "0.25"))
    HOLDS_PER_DAY_MIN = int(env("HOLDS_PER_DAY_MIN", "3"))
    # Each video consult's meeting link is this plus a random room name (booking/video.py).
    VIDEO_BASE_URL = env("VIDEO_BASE_URL", "https://meet.jit.si/")
    MANAGE_RATE_LIMIT = env("MANAGE_RATE_LIMIT", "60 per hour")
    STAFF_SIGN_IN_RATE_LIMIT = env("STAFF_SIGN_IN_RATE_LIMIT", "10 per minute;50 per hour")
    TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))

    # However active, a staff session ends this long after sign-in (besides the idle limit).
    STAFF_SESSION_MAX = env("STAFF_SESSION_MAX", "12h")
    # A booking's personal data is erased this long after its consult (or its cancellation);
    # the audit trail, which holds no health data, is kept for AUDIT_RETENTION_DAYS.
    RETENTION_DAYS = int(env("RETENTION_DAYS", "365"))
    AUDIT_RETENTION_DAYS = int(env("AUDIT_RETENTION_DAYS", str(7 * 365)))
    RETENTION_INTERVAL = env("RETENTION_INTERVAL", "1d")
    # Named on the privacy notice for complaints about personal data (the clinic's contacts
    # when unset).
    GRIEVANCE_CONTACT = env("GRIEVANCE_CONTACT")
    LOG_LEVEL = env("LOG_LEVEL", "INFO")
    # "json": one JSON object per line, with the request id (web/request_log.py).
    LOG_FORMAT = env("LOG_FORMAT", "text")
    # /metrics answers only with this bearer token, and not at all while it is unset.
    METRICS_TOKEN = env("METRICS_TOKEN")
    PASSWORD_HASH_METHOD = "scrypt"
    MAX_CONTENT_LENGTH = 256 * 1024
    # hide_parameters: a database error would otherwise put the bound values (names, phone
    # numbers, cancer types) into the exception text, and from there into the logs.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    WTF_CSRF_TIME_LIMIT = int(env("CSRF_TIME_LIMIT_SECONDS", "7200"))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    # Generated keys and the SQLite file live in instance/ only in development.
    GENERATE_DEV_SECRETS = False
    IS_PRODUCTION = False


class DevelopmentConfig(Config):
    """``make run``: SQLite and generated keys in ``instance/``, mail to the local sink."""

    GENERATE_DEV_SECRETS = True
    SESSION_COOKIE_SECURE = False


class TestingConfig(Config):
    """Tests pass the database URL, keys and mail port they set up themselves."""

    TESTING = True
    SECRET_KEY = "testing-only-secret-of-at-least-32-characters"
    GENERATE_DEV_SECRETS = False
    SESSION_COOKIE_SECURE = False
    # Port 9 (discard) is closed here: a test that forgets to start its own SMTP server
    # fails loudly instead of reaching whatever happens to listen on 8025.
    MAIL_PORT = 9
    MAIL_TIMEOUT = "5s"
    BOOKING_RATE_LIMIT = "10000 per hour"
    MAX_BOOKINGS_PER_EMAIL = 10000  # the tests book many consults with one address
    MANAGE_RATE_LIMIT = "10000 per hour"
    STAFF_SIGN_IN_RATE_LIMIT = "10000 per hour"
    RATELIMIT_STORAGE_URI = "memory://"
    # Hashing is deliberately slow; the tests sign in hundreds of times.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"


class ProductionConfig(Config):
    """Refuses to start without ``SECRET_KEY`` (32 characters at least) and ``ENCRYPTION_KEYS``
    (checked in create_app)."""

    IS_PRODUCTION = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for_environment() -> type[Config]:
    """The class named by ``APP_ENV``; an unknown name is an error, not a silent default."""
    name: str = env("APP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"APP_ENV={name!r} is not one of {', '.join(CONFIGS)}") from None
