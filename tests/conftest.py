"""Fixtures only: apps on a fresh SQLite file or on the PostgreSQL server, a real SMTP sink,
signed-in staff clients, and the factory fixtures. What they are built from lives beside this
file: ``apps.py`` (the app and its client), ``databases.py`` (which databases, and
``BOTH_DATABASES``), ``factories.py`` (rows, valid answers, signing in).

The schema always comes from the migrations (as in production), never from ``create_all``.
PostgreSQL tests run against ``TEST_DATABASE_URL``; with ``REQUIRE_POSTGRES=1`` (CI) a missing
server fails them instead of skipping them.
"""

from __future__ import annotations

import os
import secrets
import shutil
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from hypothesis import settings

from booking.extensions import db
from booking.messages.local_provider import LocalProvider
from booking.messages.local_provider import Settings as ProviderSettings
from tests.apps import TEXTS_SETTINGS, FreshGlobalsClient, ServedApp, Smtp, make_app
from tests.databases import (
    NAMED_URL,
    PG_URL,
    NotATestDatabase,
    check_test_database,
    empty_postgres,
    ensure_database,
    remember_seeded_questions,
    require_postgres,
)
from tests.factories import (
    VALID_ANSWERS,
    add_consultant,
    add_staff,
    book_at_moment,
    sign_in,
)
from tests.helpers import csrf_token

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
    the options to its workers, so every worker uses the same one); set the clock when
    ``TESTS_AT`` asks."""
    try:
        check_test_database(NAMED_URL)
    except NotATestDatabase as refused:
        raise pytest.UsageError(str(refused)) from None
    if not settings.default.derandomize and config.getoption("hypothesis_seed") is None:
        config.option.hypothesis_seed = str(secrets.randbelow(2**32))
    _travel(config)


def _travel(config) -> None:
    """With ``TESTS_AT`` set (``tests/awkward_moments.py`` sets it), every clock the code reads
    (``datetime.now``, ``time.time``) starts at that moment and ticks on; the monotonic clock,
    sleeps, other processes and the database server keep the real time."""
    moment = os.environ.get("TESTS_AT")
    if moment:
        import time_machine

        config._travel = time_machine.travel(datetime.fromisoformat(moment), tick=True)
        config._travel.start()


def pytest_unconfigure(config):
    travel = getattr(config, "_travel", None)
    if travel is not None:
        travel.stop()


def pytest_report_header(config):
    moment = os.environ.get("TESTS_AT")
    clock = [f"clock: set to {moment} (ticking)"] if moment else []
    if settings.default.derandomize:
        return [
            *clock,
            f"hypothesis: profile {settings.get_current_profile_name()!r}, derandomized",
        ]
    seed = config.getoption("hypothesis_seed")
    return [
        *clock,
        f"hypothesis: profile 'dev', seed {seed} (replay with --hypothesis-seed={seed})",
    ]


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
    remember_seeded_questions(app)
    return PG_URL


@pytest.fixture
def database_url(request, tmp_path, sqlite_template):
    """SQLite by default; tests parametrized with ``backend`` get PostgreSQL too."""
    backend = getattr(request, "param", "sqlite")
    if backend == "postgres":
        return request.getfixturevalue("postgres_schema")
    path = tmp_path / "test.sqlite3"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def app_settings():
    """Override in a test module to change settings for every app it builds."""
    return {}


@pytest.fixture
def app(database_url, app_settings):
    """The app on a fresh database. Mail goes to port 9 (closed) unless the test also asks for
    ``smtp``, so a test that sends mail says so, and no other test starts a server."""
    app = make_app(database_url, **app_settings)
    app.test_client_class = FreshGlobalsClient
    if database_url.startswith("postgresql"):
        empty_postgres(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


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


@pytest.fixture
def served(app):
    """The app served over real HTTP on loopback (for webhooks the stand-in posts back);
    ``BASE_URL`` points at it, so links and callbacks do too."""
    server = ServedApp(app).start()
    yield server
    server.stop()


@pytest.fixture
def texts(app, served, tmp_path):
    """The local WhatsApp and SMS stand-in, with both channels of the app pointed at it."""
    provider = LocalProvider(
        ProviderSettings(
            folder=tmp_path / "messages",
            whatsapp_token=TEXTS_SETTINGS["WHATSAPP_TOKEN"],
            whatsapp_app_secret=TEXTS_SETTINGS["WHATSAPP_APP_SECRET"],
            whatsapp_webhook=f"{served.url}/webhooks/whatsapp",
            twilio_account_sid=TEXTS_SETTINGS["TWILIO_ACCOUNT_SID"],
            twilio_auth_token=TEXTS_SETTINGS["TWILIO_AUTH_TOKEN"],
        )
    ).start()
    app.config.update(
        TEXTS_SETTINGS, WHATSAPP_API_URL=f"{provider.url}/v21.0", TWILIO_API_URL=provider.url
    )
    yield provider
    provider.stop()
