"""Staff sign-in: one answer for every failure, lockout, and sessions that really end."""

import re
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from booking.core.models import AuditEvent, SignInFailure, StaffUser
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.staff_accounts.accounts import authenticate
from booking.staff_accounts.lockout import CLIENT_FAILURES, LOCK_CLIENTS, clear_old_failures
from tests.databases import BOTH_DATABASES
from tests.factories import STAFF_PASSWORD, csrf_for, sign_in


def without_tokens(html: str) -> str:
    return re.sub(r'value="[^"]*"', 'value=""', html)


def test_unknown_email_and_wrong_password_answer_identically(client, create_staff):
    create_staff("known@clinic.example")
    unknown = sign_in(client, "nobody@clinic.example", STAFF_PASSWORD)
    wrong = sign_in(client, "known@clinic.example", "not the right password")
    assert unknown.status_code == wrong.status_code == 401
    assert without_tokens(unknown.get_data(as_text=True)) == without_tokens(
        wrong.get_data(as_text=True)
    )
    assert "do not match" in wrong.get_data(as_text=True)


def from_address(app, address: str):
    """A browser at another address: failures are counted by the client's address."""
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = address
    return other


def test_a_stranger_who_knows_the_email_cannot_lock_its_owner_out(app, client, create_staff):
    user = create_staff()
    stranger = from_address(app, "203.0.113.7")
    for _ in range(CLIENT_FAILURES):
        assert sign_in(stranger, user.email, "wrong password here").status_code == 401
    # The stranger's address is refused now, even with the right password ...
    refused = sign_in(stranger, user.email, STAFF_PASSWORD)
    assert refused.status_code == 401 and "do not match" in refused.get_data(as_text=True)
    # ... while the owner at their own desk signs in as usual.
    assert sign_in(client, user.email).status_code == 302
    assert "account_locked" not in db.session.scalars(sa.select(AuditEvent.action)).all()
    # Fifteen minutes later the stranger's failures no longer count.
    db.session.execute(sa.update(SignInFailure).values(at=now_utc() - timedelta(minutes=16)))
    db.session.commit()
    assert sign_in(stranger, user.email, STAFF_PASSWORD).status_code == 302


def test_guessing_emails_blocks_the_guessing_address(app, create_staff):
    user = create_staff()
    guesser = from_address(app, "198.51.100.9")
    for index in range(CLIENT_FAILURES):
        assert sign_in(guesser, f"guess{index}@clinic.example", "x" * 12).status_code == 401
    assert sign_in(guesser, user.email, STAFF_PASSWORD).status_code == 401
    assert sign_in(app.test_client(), user.email).status_code == 302


def test_failures_from_many_addresses_lock_the_account_only_for_them(app, client, create_staff):
    user = create_staff()
    attackers = [from_address(app, f"192.0.2.{n}") for n in range(1, LOCK_CLIENTS + 1)]
    for attacker in attackers:
        assert sign_in(attacker, user.email, "wrong password here").status_code == 401
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "account_locked"))
    assert event is not None and user.email in event.detail  # admins see the lock
    # One failure each, and every one of those addresses is now refused for this account.
    for attacker in attackers:
        assert sign_in(attacker, user.email, STAFF_PASSWORD).status_code == 401
    # A new address that fails once is refused too; the owner's own desk is not.
    late = from_address(app, "192.0.2.99")
    assert sign_in(late, user.email, "wrong password here").status_code == 401
    assert sign_in(late, user.email, STAFF_PASSWORD).status_code == 401
    assert sign_in(client, user.email).status_code == 302


def test_signing_in_forgets_that_addresses_mistakes(client, create_staff):
    user = create_staff()
    for _ in range(CLIENT_FAILURES - 1):
        sign_in(client, user.email, "wrong password here")
    assert sign_in(client, user.email).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(SignInFailure.id))) == 0
    client.post("/staff/logout", data={"csrf_token": csrf_for(client)})
    for _ in range(CLIENT_FAILURES - 1):  # would make more than five with the earlier ones
        sign_in(client, user.email, "wrong password here")
    assert sign_in(client, user.email).status_code == 302


def test_sign_in_starts_a_new_session(app, client, create_staff):
    user = create_staff()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    sign_in(client, user.email)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_in_is_rate_limited(app, client, create_staff):
    app.config["STAFF_SIGN_IN_RATE_LIMIT"] = "3 per minute"
    codes = [sign_in(client, "x@clinic.example", "whatever").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_next_only_leads_inside_the_staff_pages(client, create_staff):
    user = create_staff()
    response = sign_in(client, user.email, next_page="//evil.example/")
    assert response.headers["Location"] == "/staff/"


def test_old_cookie_stops_working_after_sign_out(app, staff_client):
    old_cookie = staff_client.get_cookie("session").value
    response = staff_client.post("/staff/logout", data={"csrf_token": csrf_for(staff_client)})
    assert response.status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    assert replay.get("/staff/").status_code == 302  # sent to sign-in


def test_password_change_ends_the_other_sessions(app, staff_client):
    other = app.test_client()
    assert sign_in(other, staff_client.user.email).status_code == 302
    assert other.get("/staff/").status_code == 200
    response = staff_client.post(
        "/staff/password",
        data={
            "csrf_token": csrf_for(staff_client, "/staff/password"),
            "current": STAFF_PASSWORD,
            "new": "a brand new long phrase",
            "confirm": "a brand new long phrase",
        },
    )
    assert response.status_code == 302
    assert staff_client.get("/staff/").status_code == 200  # this session goes on
    assert other.get("/staff/").status_code == 302  # the other one is over
    assert (
        sign_in(app.test_client(), staff_client.user.email, "a brand new long phrase").status_code
        == 302
    )


@pytest.mark.parametrize(
    ("new", "message"),
    [
        ("short", "at least 12"),
        ("password1234", "too common"),
        ("sunshine2024!!", "too common"),  # a listed word padded with digits and symbols
        ("ab12ab12ab12", "repeats a short pattern"),
        ("receptionreception1", "your name or email"),
    ],
)
def test_password_rules(staff_client, new, message):
    response = staff_client.post(
        "/staff/password",
        data={
            "csrf_token": csrf_for(staff_client, "/staff/password"),
            "current": STAFF_PASSWORD,
            "new": new,
            "confirm": new,
        },
    )
    assert message in response.get_data(as_text=True)


def test_the_common_password_list_holds_ten_thousand_entries():
    from booking.staff_accounts.accounts import _COMMON

    assert len(_COMMON) >= 10_000
    assert {"iloveyou", "sunshine", "trustno1"} <= _COMMON


def test_idle_session_ends_after_thirty_minutes(staff_client):
    with staff_client.session_transaction() as session:
        session["seen"] = (now_utc() - timedelta(minutes=31)).timestamp()
    response = staff_client.get("/staff/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]
    assert staff_client.get("/staff/").status_code == 302


def test_an_active_session_still_ends_after_twelve_hours(staff_client):
    """Kept busy all day, a session still ends STAFF_SESSION_MAX (12 h) after sign-in."""
    with staff_client.session_transaction() as session:
        session["signed_in"] = (now_utc() - timedelta(hours=11, minutes=59)).timestamp()
    assert staff_client.get("/staff/").status_code == 200
    with staff_client.session_transaction() as session:
        session["signed_in"] = (now_utc() - timedelta(hours=12, minutes=1)).timestamp()
    response = staff_client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert "at most one working day" in staff_client.get("/staff/login").get_data(as_text=True)
    assert staff_client.get("/staff/").status_code == 302


def test_deactivated_account_is_signed_out(staff_client):
    user = db.session.get(StaffUser, staff_client.user.id)
    user.active = False
    db.session.commit()
    response = staff_client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    # Signing in again is refused too, with the same words as a wrong password.
    refused = sign_in(staff_client, user.email)
    assert refused.status_code == 401
    assert "do not match an active account" in refused.get_data(as_text=True)


def test_sign_in_and_out_are_audited(staff_client):
    staff_client.post("/staff/logout", data={"csrf_token": csrf_for(staff_client)})
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["signed_in", "signed_out"]


@BOTH_DATABASES
def test_wrong_passwords_sent_in_parallel_each_count(app, create_staff):
    """Five wrong passwords at the same moment refuse the address, as five in a row do."""
    user = create_staff()
    email = user.email
    db.session.remove()
    barrier = threading.Barrier(CLIENT_FAILURES)
    now = now_utc()

    def attempt():
        with app.app_context():
            barrier.wait(10)
            authenticate(db.session, email, "wrong password, again", now, "203.0.113.50")
            db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(CLIENT_FAILURES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert db.session.scalar(sa.select(sa.func.count(SignInFailure.id))) == CLIENT_FAILURES
    result = authenticate(db.session, email, STAFF_PASSWORD, now, "203.0.113.50")
    assert result.user is None and result.locked
    assert authenticate(db.session, email, STAFF_PASSWORD, now, "203.0.113.51").user is not None


def test_the_worker_sweeps_failures_older_than_the_window(app, create_staff):
    user = create_staff()
    now = now_utc()
    for minutes in (1, 14, 16, 60):
        db.session.add(
            SignInFailure(
                staff_user_id=user.id, client="203.0.113.7", at=now - timedelta(minutes=minutes)
            )
        )
    db.session.commit()
    clear_old_failures(db.session, now)
    left = db.session.scalars(sa.select(SignInFailure.at).order_by(SignInFailure.at)).all()
    assert left == [now - timedelta(minutes=14), now - timedelta(minutes=1)]
