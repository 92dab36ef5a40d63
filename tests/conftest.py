"""Fixtures: apps on a fresh SQLite file or on the PostgreSQL server, a real SMTP sink, and
factories for consultants and valid booking forms.

The schema always comes from the migrations (as in production), never from ``create_all``.
PostgreSQL tests run against ``TEST_DATABASE_URL``; with ``REQUIRE_POSTGRES=1`` (CI) a missing
server fails them instead of skipping them.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import g, has_app_context
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import settings

from booking import create_app
from booking.core.models import StaffUser
from booking.extensions import db
from booking.messages.mailsink import start_sink
from config import TestingConfig
from tests.databases import (
    NAMED_URL,
    NotATestDatabase,
    check_test_database,
    ensure_database,
    with_database,
    worker_url,
)
from tests.factories import (
    STAFF_PASSWORD,
    STAFF_TOTP_SECRET,
    add_consultant,
    add_staff,
    book_at_moment,
)
from tests.helpers import csrf_token

PG_URL = worker_url()
TEST_KEY = Fernet.generate_key().decode()
KEPT_TABLES = {"previsit_question", "alembic_version"}


# Property tests: in CI the same examples every run (derandomized, a fixed number); elsewhere
# new ones each run, from a seed the header prints, so a failure found once can be replayed
# with ``--hypothesis-seed=N`` (or the ``@reproduce_failure`` line a failure prints).
settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None, print_blob=True)
settings.register_profile("dev", max_examples=60, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """Stop before anything is dropped when TEST_DATABASE_URL names a database not meant for
    tests; draw the property tests' seed before Hypothesis reads it (and before xdist hands
    the options to its workers, so every worker uses the same one)."""
    try:
        check_test_database(NAMED_URL)
    except NotATestDatabase as refused:
        raise pytest.UsageError(str(refused)) from None
    if not settings.default.derandomize and config.getoption("hypothesis_seed") is None:
        config.option.hypothesis_seed = str(secrets.randbelow(2**32))


def pytest_report_header(config):
    if settings.default.derandomize:
        return f"hypothesis: profile {settings.get_current_profile_name()!r}, derandomized"
    seed = config.getoption("hypothesis_seed")
    return f"hypothesis: profile 'dev', seed {seed} (replay with --hypothesis-seed={seed})"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_app(database_url: str, **overrides):
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "ENCRYPTION_KEYS": TEST_KEY}
    settings.update(overrides)
    return create_app(TestingConfig, **settings)


def postgres_reachable() -> bool:
    engine = sa.create_engine(with_database(NAMED_URL, "postgres"))
    try:
        with engine.connect():
            return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


def require_postgres() -> None:
    """Fail (in CI) or skip (elsewhere) when the server is not there."""
    if not postgres_reachable():
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required but not reachable at {NAMED_URL}")
        pytest.skip(f"PostgreSQL not reachable at {NAMED_URL}")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """One migrated SQLite file, copied for each test (migrating per test would be slow)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_schema():
    """Migrate this process's PostgreSQL test database once per run, from an empty schema."""
    require_postgres()
    ensure_database(PG_URL)
    engine = sa.create_engine(PG_URL)
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
    app = make_app(PG_URL)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return PG_URL


def _empty_postgres(app) -> None:
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables if t.name not in KEPT_TABLES]
        db.session.execute(sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture
def database_url(request, tmp_path, sqlite_template):
    """SQLite by default; tests parametrized with ``backend`` get PostgreSQL too."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgres":
        return request.getfixturevalue("postgres_schema")
    path = tmp_path / "test.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


BOTH_DATABASES = pytest.mark.parametrize(
    "database_url",
    ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
    indirect=True,
)


@pytest.fixture
def app_settings():
    """Override in a test module to change settings for every app it builds."""
    return {}


class FreshGlobalsClient(FlaskClient):
    """The tests hold an app context open (to use ``db.session`` between requests), and Flask
    reuses it for each request, so ``g`` would carry over: the signed-in user, the CSRF token.
    In production every request starts with an empty ``g``; so does every request here."""

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(vars(g)):
                delattr(g, name)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(database_url, app_settings):
    """The app on a fresh database. Mail goes to port 9 (closed) unless the test also asks for
    ``smtp``, so a test that sends mail says so, and no other test starts a server."""
    app = make_app(database_url, **app_settings)
    app.test_client_class = FreshGlobalsClient
    if database_url.startswith("postgresql"):
        _empty_postgres(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


class Smtp:
    """A running aiosmtpd sink: ``messages`` holds what it received."""

    def __init__(self):
        self.port = free_port()
        self.controller = None
        self.sink = None

    def start(self):
        self.controller, self.sink = start_sink("127.0.0.1", self.port)
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.sink.messages if self.sink else []


@pytest.fixture
def smtp(app):
    """A real SMTP server on loopback that the app sends to; ``smtp.stop()`` takes it down."""
    server = Smtp().start()
    app.config["MAIL_PORT"] = server.port
    yield server
    server.stop()


@pytest.fixture
def create_consultant(app):
    """Factory: ``tests.factories.add_consultant`` (every day, 00:00-23:30 clinic time)."""
    return add_consultant


@pytest.fixture
def consultant(create_consultant):
    return create_consultant()


VALID_ANSWERS = {
    "booked_by": "self",
    "patient_name": "Asha Verma",
    "patient_email": "asha.verma@example.com",
    "patient_phone": "+91 98765 43210",
    "birth_date": "15/08/1962",
    "preferred_channel": "email",
    "therapy": "interleukin2",
    "cancer_type": "melanoma",
    "stage": "3",
    "diagnosed": "3to12m",
    "diagnosis_details": "Lesion on the left shoulder, BRAF negative",
    "treatments": ["immunotherapy", "interferon"],
    "treatment_details": "Pembrolizumab since March",
    "treating_hospital": "City Cancer Hospital, Dr Iyer",
    "payment_routes": ["private_insurance", "pmjay"],
    "insurer": "Star Health",
    "tpa": "Medi Assist",
    "policy_holder": "Ravi Verma",
    "policy_after_diagnosis": "no",
    "red_flags": ["none"],
    "own_questions": "Can I keep working during treatment?",
    "consult_mode": "phone",
    "timezone": "Asia/Kolkata",
    "consent_health": "y",
    "consent_reminders": "y",
}


@pytest.fixture
def booking_form(client):
    """Factory: a valid details form as the patient's browser would post it to ``/book``,
    after opening the booking page. ``slot_index`` counts every free time, across days."""
    from booking.core.timeutil import now_utc
    from booking.scheduling.availability import free_slots, slot_rules
    from booking.web.fields import slot_value

    def build(slot_index=0, tz="Asia/Kolkata", **changes):
        page = client.get(f"/book?tz={tz}").get_data(as_text=True)
        rules = slot_rules(client.application.config)
        slots = [slot_value(moment) for moment in free_slots(db.session, rules, now_utc())]
        data = dict(VALID_ANSWERS, timezone=tz)
        data.update(
            csrf_token=csrf_token(page),
            submission_key=secrets.token_urlsafe(24),
            slot=slots[slot_index] if slots else "",
        )
        data.update(changes)
        return {key: value for key, value in data.items() if value is not None}

    return build


@pytest.fixture
def book_at(app):
    """Factory: ``tests.factories.book_at_moment``, booking with a controlled clock."""
    return book_at_moment


@pytest.fixture
def create_staff(app):
    """Factory: ``tests.factories.add_staff``, an account that can sign in."""
    return add_staff


def next_code(email: str, secret: str = STAFF_TOTP_SECRET) -> str:
    """The code the app shows now, or the next one when this one was used: a code is accepted
    once. A test that signs one account in a third time within 30 seconds moves the last
    accepted step back, as if the next period had come."""
    import pyotp

    now_step = int(datetime.now(UTC).timestamp()) // 30
    with db.engine.connect() as connection:  # leaves the test's own transaction alone
        last = connection.scalar(
            sa.select(StaffUser.totp_last_step).where(StaffUser.email == email)
        )
        if last is not None and last > now_step:
            connection.execute(
                sa.update(StaffUser)
                .where(StaffUser.email == email)
                .values(totp_last_step=now_step - 1)
            )
            connection.commit()
            last = now_step - 1
    step = max(now_step, (last or 0) + 1)
    return pyotp.TOTP(secret).generate_otp(step)


def sign_in(client, email, password=STAFF_PASSWORD, next_page=None):
    """Password, then the code: the response of the last step (302 when signed in)."""
    login = f"/staff/login?next={next_page}" if next_page else "/staff/login"
    page = client.get(login).get_data(as_text=True)
    first = client.post(
        login,
        data={"csrf_token": csrf_token(page), "email": email, "password": password},
    )
    if first.status_code != 302 or not first.headers["Location"].endswith("/two-factor"):
        return first
    code_page = client.get("/staff/two-factor")
    if code_page.status_code != 200:  # no second factor yet: set-up comes next
        return first
    page = code_page.get_data(as_text=True)
    return client.post(
        "/staff/two-factor", data={"csrf_token": csrf_token(page), "code": next_code(email)}
    )


@pytest.fixture
def staff_client(app, client, create_staff):
    """A client signed in as a (non-admin) member of staff."""
    user = create_staff()
    assert sign_in(client, user.email).status_code == 302
    client.user = user
    return client


@pytest.fixture
def admin_client(app, create_staff):
    client = app.test_client()
    user = create_staff("admin@clinic.example", role="admin", name="Clinic Admin")
    assert sign_in(client, user.email).status_code == 302
    client.user = user
    return client


def csrf_for(client, path="/staff/") -> str:
    """A valid CSRF token for this client's session."""
    return csrf_token(client.get(path).get_data(as_text=True))
