"""Two-factor sign-in: set-up with a QR code, codes accepted once, recovery codes, the lock,
an admin's reset, and the forced change of a temporary password."""

import re

import pyotp
import pytest
import sqlalchemy as sa

from booking.core.models import AuditEvent, RecoveryCode, StaffUser
from booking.extensions import db
from booking.staff_accounts.accounts import new_staff_user
from tests.databases import BOTH_DATABASES
from tests.factories import STAFF_PASSWORD, csrf_for, next_code, sign_in
from tests.helpers import csrf_token

pytestmark = BOTH_DATABASES


def password_step(client, email, password=STAFF_PASSWORD):
    page = client.get("/staff/login").get_data(as_text=True)
    return client.post(
        "/staff/login",
        data={"csrf_token": csrf_token(page), "email": email, "password": password},
    )


def post_code(client, path, code):
    page = client.get(path).get_data(as_text=True)
    return client.post(path, data={"csrf_token": csrf_token(page), "code": code})


@pytest.fixture
def newcomer(app):
    """An account without a second factor: new, from before the upgrade, or reset."""
    user = new_staff_user("new@clinic.example", "New Colleague", "staff", False, STAFF_PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def set_up(client, email):
    """Through the set-up page as a person with an authenticator app would: the secret read
    off the page. Returns the secret and the page with the recovery codes."""
    assert password_step(client, email).headers["Location"] == "/staff/two-factor"
    assert client.get("/staff/two-factor").headers["Location"] == "/staff/two-factor/setup"
    page = client.get("/staff/two-factor/setup").get_data(as_text=True)
    assert "<svg" in page  # the QR code, drawn on the server
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)[1].replace(" ", "")
    done = post_code(client, "/staff/two-factor/setup", pyotp.TOTP(secret).now())
    assert done.status_code == 200
    return secret, done.get_data(as_text=True)


def test_setting_up_at_first_sign_in(client, newcomer):
    assert password_step(client, newcomer.email).status_code == 302
    wrong = post_code(client, "/staff/two-factor/setup", "000000")
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    assert client.get("/staff/").headers["Location"] == "/staff/two-factor"  # not signed in
    secret, page = set_up(client, newcomer.email)
    codes = re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code>", page)
    assert len(set(codes)) == 10 and "shown only once" in page
    assert client.get("/staff/").status_code == 200  # signed in now
    assert client.get("/staff/two-factor/setup").headers["Location"] == "/staff/"
    db.session.expire_all()
    user = db.session.get(StaffUser, newcomer.id)
    assert user.totp_confirmed_at is not None and user.totp_secret == secret
    stored = db.session.execute(
        sa.text("SELECT totp_secret FROM staff_user WHERE id = :id"), {"id": user.id}
    ).scalar()
    assert secret not in stored  # encrypted at rest
    hashes = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and not set(hashes) & {c.replace("-", "") for c in codes}
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "two_factor_set_up" in actions and "signed_in" in actions


def test_a_code_is_accepted_once(client, app, create_staff):
    user = create_staff()
    code = next_code(user.email)
    password_step(client, user.email)
    assert post_code(client, "/staff/two-factor", code).status_code == 302
    client.post("/staff/logout", data={"csrf_token": csrf_for(client)})
    other = app.test_client()
    password_step(other, user.email)
    replayed = post_code(other, "/staff/two-factor", code)
    assert replayed.status_code == 401
    assert other.get("/staff/").headers["Location"] == "/staff/two-factor"


def test_a_recovery_code_signs_in_once(app, client, newcomer):
    _, page = set_up(client, newcomer.email)
    code = re.findall(r"<code>([0-9a-f-]{19})</code>", page)[3]
    first, second = app.test_client(), app.test_client()
    password_step(first, newcomer.email)
    used = post_code(first, "/staff/two-factor", code.upper())  # typed any way
    assert used.status_code == 302
    assert "9 left" in first.get(used.headers["Location"]).get_data(as_text=True)
    password_step(second, newcomer.email)
    assert post_code(second, "/staff/two-factor", code).status_code == 401
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("recovery_code_used") == 1


def test_five_wrong_codes_refuse_the_address_like_wrong_passwords(app, client, create_staff):
    user = create_staff()
    client.environ_base["REMOTE_ADDR"] = "203.0.113.8"
    password_step(client, user.email)
    statuses = [post_code(client, "/staff/two-factor", "123456").status_code for _ in range(4)]
    assert statuses == [401] * 4
    locked = post_code(client, "/staff/two-factor", "123456")
    assert locked.status_code == 401 and "locked" in locked.get_data(as_text=True)
    # From that address the right password and the right code do not help now ...
    assert sign_in(client, user.email).status_code == 401
    # ... but the owner's own desk is not shut out.
    assert sign_in(app.test_client(), user.email).status_code == 302


def test_an_admin_resets_a_lost_phone(app, admin_client, create_staff):
    user = create_staff("desk@clinic.example")
    colleague = app.test_client()
    assert sign_in(colleague, user.email).status_code == 302
    page = admin_client.get("/staff/accounts").get_data(as_text=True)
    assert f"/staff/accounts/{user.id}/reset-two-factor" in page
    admin_client.post(
        f"/staff/accounts/{user.id}/reset-two-factor", data={"csrf_token": csrf_token(page)}
    )
    assert colleague.get("/staff/").status_code == 302  # signed out everywhere
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "two_factor_reset"))
    assert event.staff_user_id == admin_client.user.id and str(user.id) in event.detail
    fresh = app.test_client()
    password_step(fresh, user.email)
    assert fresh.get("/staff/two-factor").headers["Location"] == "/staff/two-factor/setup"


def test_a_temporary_password_must_be_changed_first(app, admin_client):
    page = admin_client.post(
        "/staff/accounts",
        data={
            "csrf_token": csrf_for(admin_client),
            "email": "temp@clinic.example",
            "name": "New Colleague",
            "role": "staff",
        },
    ).get_data(as_text=True)
    temporary = re.search(r"<code>([^<]+)</code>", page)[1]
    client = app.test_client()
    page_after_setup = None
    assert password_step(client, "temp@clinic.example", temporary).status_code == 302
    page = client.get("/staff/two-factor/setup").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page)[1].replace(" ", "")
    page_after_setup = post_code(client, "/staff/two-factor/setup", pyotp.TOTP(secret).now())
    assert 'href="/staff/password"' in page_after_setup.get_data(as_text=True)
    for path in ("/staff/", "/staff/appointments", "/staff/availability"):
        assert client.get(path).headers["Location"] == "/staff/password"
    assert "is temporary" in client.get("/staff/password").get_data(as_text=True)
    changed = client.post(
        "/staff/password",
        data={
            "csrf_token": csrf_for(client, "/staff/password"),
            "current": temporary,
            "new": "a phrase of my own choosing",
            "confirm": "a phrase of my own choosing",
        },
    )
    assert changed.status_code == 302
    assert client.get("/staff/").status_code == 200
