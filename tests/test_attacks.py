"""What an attacker of the running service would try: a forged Host header, an oversized
body, line breaks meant to start new email headers or calendar lines, production cookies, and
rate limits behind a proxy. (Open redirects: tests/test_staff_access.py; spreadsheet formulas:
tests/test_staff_appointments.py; escaping in emails: tests/test_email_escaping.py.)"""

import re

import icalendar
import sqlalchemy as sa

from booking import create_app
from booking.core.models import Appointment
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from config import ProductionConfig
from tests.apps import TEST_KEY
from tests.helpers import csrf_token


def test_links_in_emails_use_base_url_whatever_the_host_header_says(
    app, client, consultant, booking_form, smtp
):
    form = booking_form(slot_index=5)
    forged = "http://evil.example"  # the browser session, too, lives on the forged host
    form["csrf_token"] = csrf_token(client.get("/book", base_url=forged).get_data(as_text=True))
    response = client.post("/book", data=form, base_url=forged)
    assert response.status_code == 302
    dispatch_outbox(db.session)
    assert len(smtp.messages) == 2  # the confirmation and the staff notification
    base = app.config["BASE_URL"]
    for message in smtp.messages:
        raw = message.as_string()
        assert "evil.example" not in raw
        for text in (
            part.get_content() for part in message.walk() if part.get_content_maintype() == "text"
        ):
            for link in re.findall(r"https?://[^\s\"<>]+", text):
                if "/manage/" in link or "/staff/" in link:
                    assert link.startswith(base), link


def test_an_oversized_body_gets_a_clear_413(client, consultant, booking_form):
    form = booking_form(own_questions="x" * (300 * 1024))
    response = client.post("/book", data=form)
    assert response.status_code == 413
    assert "<html" in response.get_data(as_text=True).lower()
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0


def test_line_breaks_cannot_add_email_headers_or_calendar_lines(
    client, consultant, booking_form, smtp
):
    injected = "Asha\r\nBcc: victim@example.com\r\nATTENDEE:mailto:victim@example.com"
    page = client.post(
        "/book", data=booking_form(slot_index=7, patient_name=injected, own_questions=injected)
    )
    assert page.status_code == 302  # the line breaks are folded into spaces, and it books
    calendar = client.get("/book/confirmed/consult.ics").get_data(as_text=True)
    lines = calendar.replace("\r\n ", "").splitlines()  # long lines unfolded
    # What was typed stays inside the one attendee's quoted name; no line of its own.
    attendees = [line for line in lines if line.startswith("ATTENDEE")]
    assert len(attendees) == 1 and attendees[0].endswith(":mailto:asha.verma@example.com")
    assert not [line for line in lines if line.upper().startswith("BCC")]
    assert len(icalendar.Calendar.from_ical(calendar).walk("VEVENT")) == 1
    dispatch_outbox(db.session)
    assert smtp.messages
    for message in smtp.messages:
        assert message["Bcc"] is None
        assert "victim@example.com" not in str(message["To"])
        assert "\n" not in str(message["Subject"])
    refused = client.post(
        "/book", data=booking_form(slot_index=8, patient_email="a@example.com\r\nBcc: b@x.example")
    )
    assert refused.status_code == 422 and "email address" in refused.get_data(as_text=True)


def test_production_cookies_are_secure_httponly_and_lax(tmp_path):
    app = create_app(
        ProductionConfig,
        SECRET_KEY="s" * 40,
        ENCRYPTION_KEYS=TEST_KEY,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
    )
    client = app.test_client()
    page = client.get("/staff/login", base_url="https://clinic.example")
    cookie = page.headers["Set-Cookie"]
    assert csrf_token(page.get_data(as_text=True))
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie, cookie


def sign_in_attempts(client, addresses):
    page = client.get("/staff/login").get_data(as_text=True)
    token = csrf_token(page)
    return [
        client.post(
            "/staff/login",
            data={"csrf_token": token, "email": "x@clinic.example", "password": "wrong" * 3},
            headers={"X-Forwarded-For": address},
        ).status_code
        for address in addresses
    ]


def test_rate_limits_count_the_real_client_behind_a_trusted_proxy(app):
    trusting = create_app_like(app, TRUSTED_PROXY_COUNT=1)
    statuses = sign_in_attempts(trusting.test_client(), ["198.51.100.1"] * 3 + ["198.51.100.2"])
    assert statuses == [401, 401, 429, 401]  # the second client has its own limit


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_limit(app, client):
    app.config["STAFF_SIGN_IN_RATE_LIMIT"] = "2 per minute"
    statuses = sign_in_attempts(client, ["198.51.100.1", "198.51.100.2", "198.51.100.3"])
    assert statuses == [401, 401, 429]


def create_app_like(app, **overrides):
    """A second app on the same database with other settings (ProxyFix is set up at start)."""
    from tests.apps import make_app

    settings = {"STAFF_SIGN_IN_RATE_LIMIT": "2 per minute", **overrides}
    return make_app(app.config["SQLALCHEMY_DATABASE_URI"], **settings)
