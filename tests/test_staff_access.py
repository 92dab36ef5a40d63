"""Every staff URL, taken from the app's URL map so a new page is covered automatically.

Most tests here make one request each and check that it changed nothing, so they share one
app, database and booking per module (``site``); building them for each of some 180 tests
took most of this file's time. Each test still gets a client of its own.
"""

import re
import shutil
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask import Flask

from booking import create_app
from booking.core.timeutil import now_utc
from booking.extensions import db
from config import TestingConfig
from tests.apps import TEST_KEY, FreshGlobalsClient, make_app
from tests.clock import clinic_slot
from tests.databases import BOTH_DATABASES
from tests.factories import (
    STAFF_PASSWORD,
    add_consultant,
    add_staff,
    book_at_moment,
    csrf_for,
    sign_in,
)
from tests.helpers import csrf_token

SAMPLE_VALUES = {"reference": "CT-AAAAAA", "token": "x" * 43}
DOMAIN_TABLES = [
    "appointment",
    "intake",
    "reminder",
    "outbound_email",
    "previsit_question",
    "time_off",
    "weekly_hours",
    "appointment_note",
    "manage_token",
    "staff_user",
]


def staff_routes():
    """(path, method, admin_only) for every /staff/ rule and method of the app."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite://", ENCRYPTION_KEYS=TEST_KEY)
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff/"):
            continue
        path = rule.rule
        for name in rule.arguments:
            path = re.sub(rf"<(?:\w+:)?{name}>", str(SAMPLE_VALUES.get(name, 1)), path)
        admin_only = getattr(app.view_functions[rule.endpoint], "admin_only", False)
        for method in sorted(rule.methods & {"GET", "POST"}):
            routes.append(pytest.param(path, method, admin_only, id=f"{method} {path}"))
    return routes


ROUTES = staff_routes()


def snapshot():
    """Every row of every domain table, to prove a request changed nothing."""
    return {
        table: sorted(map(tuple, db.session.execute(sa.text(f"SELECT * FROM {table}"))), key=str)
        for table in DOMAIN_TABLES
    }


@dataclass
class Site:
    app: Flask
    reference: str
    admin: FreshGlobalsClient
    desk: FreshGlobalsClient
    half_signed_up: str  # an account whose second factor is not set up yet

    def signed_in(self, client: FreshGlobalsClient) -> FreshGlobalsClient:
        """The client, checked to be still signed in (a request must not have ended it)."""
        assert client.get("/staff/").status_code == 200
        return client


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template):
    path = tmp_path_factory.mktemp("staff-access") / "site.sqlite3"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        add_consultant()
        reference = book_at_moment(clinic_slot(3), now_utc()).appointment.reference
        admin, desk = app.test_client(), app.test_client()
        add_staff("admin@clinic.example", role="admin", name="Clinic Admin")
        add_staff("reception@clinic.example")
        add_staff("new@clinic.example", name="New Colleague", second_factor=False)
        assert sign_in(admin, "admin@clinic.example").status_code == 302
        assert sign_in(desk, "reception@clinic.example").status_code == 302
        db.session.remove()
        yield Site(app, reference, admin, desk, "new@clinic.example")
        db.session.remove()
        db.engine.dispose()


def test_the_url_map_has_staff_pages():
    assert len(ROUTES) > 20


@pytest.mark.parametrize(("path", "method", "admin_only"), ROUTES)
def test_signed_out_visitors_are_sent_to_sign_in(site, path, method, admin_only):
    if path == "/staff/login":
        return
    client = site.app.test_client()
    before = snapshot()
    # A valid token from a public page, so the sign-in check itself is what refuses.
    data = {"csrf_token": csrf_for(client, "/book")} if method == "POST" else None
    response = client.open(path.replace("CT-AAAAAA", site.reference), method=method, data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")
    for private in (b"Asha", b"patient0@example", b"Star Health", b"melanoma"):
        assert private not in response.data
    db.session.remove()
    assert snapshot() == before


# Named here, not found through the flag the decorator sets: a page that loses its
# @admin_required would otherwise drop out of the test instead of failing it.
ADMIN_PAGES = [
    ("/staff/accounts", "GET"),
    ("/staff/accounts", "POST"),
    ("/staff/accounts/1", "POST"),
    ("/staff/accounts/1/reset-password", "POST"),
    ("/staff/accounts/1/reset-two-factor", "POST"),
    ("/staff/audit", "GET"),
    ("/staff/appointments/CT-AAAAAA/erase", "GET"),
    ("/staff/appointments/CT-AAAAAA/erase", "POST"),
]


def test_the_admin_list_names_every_flagged_admin_page():
    flagged = {(r.values[0], r.values[1]) for r in ROUTES if r.values[2]}
    assert flagged == set(ADMIN_PAGES)


@pytest.mark.parametrize(("path", "method"), ADMIN_PAGES)
def test_admin_pages_refuse_staff(site, path, method):
    desk = site.desk
    data = {"csrf_token": csrf_for(desk)} if method == "POST" else None
    path = path.replace("CT-AAAAAA", site.reference)
    before = snapshot()
    assert desk.open(path, method=method, data=data).status_code == 403
    db.session.remove()
    assert snapshot() == before
    site.signed_in(desk)


@pytest.mark.parametrize(
    ("path", "method", "admin_only"), [r for r in ROUTES if r.values[1] == "POST"]
)
def test_posts_without_a_csrf_token_are_refused(site, path, method, admin_only):
    path = path.replace("CT-AAAAAA", site.reference)
    before = snapshot()
    response = site.admin.post(path, data={"reason": "x", "text": "x", "status": "completed"})
    assert response.status_code in (400, 401, 422)
    db.session.remove()
    assert snapshot() == before
    site.signed_in(site.admin)


@pytest.mark.parametrize(
    ("path", "method", "admin_only"), [r for r in ROUTES if r.values[1] == "GET"]
)
def test_no_get_changes_state(site, path, method, admin_only):
    before = snapshot()
    response = site.admin.get(path.replace("CT-AAAAAA", site.reference))
    assert response.status_code in (200, 302, 404)
    db.session.remove()
    assert snapshot() == before
    site.signed_in(site.admin)


@BOTH_DATABASES
@pytest.mark.parametrize(
    "path",
    [
        "/staff/appointments?q=%00abc",
        "/staff/appointments?status=%00",
        "/staff/emails?kind=%00x",
        "/staff/audit?action=%00x&reference=CT-%00",
    ],
)
def test_a_nul_in_a_query_is_refused_not_a_500(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 400
    assert "Something went wrong with that request" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "/staff/%0d%0aSet-Cookie:%20x=1",
        "/staff/\\\\evil.example",
        "//evil.example",
        "https://evil.example",
    ],
)
def test_sign_in_never_redirects_off_the_staff_pages(client, create_staff, target):
    user = create_staff()
    response = sign_in(client, user.email, next_page=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"


@pytest.mark.parametrize(("path", "method", "admin_only"), ROUTES)
def test_half_signed_in_reaches_only_the_second_factor_pages(site, path, method, admin_only):
    """Right password, no second factor set up yet (a new account, one from before two-factor
    sign-in, one an admin reset): every staff page sends them to set it up."""
    client = site.app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    client.post(
        "/staff/login",
        data={
            "csrf_token": csrf_token(page),
            "email": site.half_signed_up,
            "password": STAFF_PASSWORD,
        },
    )
    data = {"csrf_token": csrf_for(client, "/staff/two-factor/setup")} if method == "POST" else {}
    response = client.open(path.replace("CT-AAAAAA", site.reference), method=method, data=data)
    if path in ("/staff/login", "/staff/two-factor", "/staff/two-factor/setup"):
        assert response.status_code in (200, 302, 401, 422)
        if response.status_code == 302:
            assert response.headers["Location"].startswith("/staff/two-factor")
        return
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/two-factor"
