"""Headers, caching, health check, error pages, and no health data in logs."""

import io
import json
import logging
import re

import pytest
import sqlalchemy as sa

from booking.core.models import Appointment
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from booking.web.request_log import JsonLines
from tests.apps import make_app
from tests.factories import VALID_ANSWERS


def test_security_headers_on_every_page(app, client, admin_client, consultant, booking_form):
    """Every page the URL map has (the staff ones signed in, so they are the pages and not a
    redirect), a booking's own pages, and a 404: all carry the headers; static files may be
    cached, pages never."""
    assert client.post("/book", data=booking_form()).status_code == 302
    reference = db.session.scalar(sa.select(Appointment.reference))
    paths = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
    ]
    paths += [f"/staff/appointments/{reference}", "/no-such-page"]
    assert len(paths) > 25
    for path in paths:
        response = (admin_client if path.startswith("/staff/") else client).get(path)
        # WhatsApp's webhook check refuses a request without its token.
        expected = (403,) if path == "/webhooks/whatsapp" else (200, 302, 404)
        assert response.status_code in expected, path
        assert "/staff/login" not in response.headers.get("Location", ""), path
        headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, path
        assert "unsafe-inline" not in policy, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        if path == "/favicon.ico":  # nobody's data: a phone may keep it a day
            assert headers["Cache-Control"] == "public, max-age=86400", path
        else:
            assert headers["Cache-Control"] == "no-store", path
        assert "Strict-Transport-Security" not in headers  # plain HTTP here
    with client.get("/static/style.css") as static:
        assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"


def test_hsts_over_https(client):
    response = client.get("/book", base_url="https://clinic.example")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_pages_with_intake_data_are_not_stored(client, consultant, booking_form):
    assert client.post("/book", data=booking_form()).status_code == 302
    confirmed = client.get("/book/confirmed")
    assert confirmed.status_code == 200
    assert "Your consult is booked" in confirmed.get_data(as_text=True)
    calendar = client.get("/book/confirmed/consult.ics")
    assert calendar.status_code == 200 and b"BEGIN:VCALENDAR" in calendar.data
    for response in (confirmed, calendar):
        assert response.headers["Cache-Control"] == "no-store"
    failed = client.post("/book", data=booking_form(consent_health=None))
    assert failed.status_code == 422  # it shows what was typed
    assert "Can I keep working during treatment?" in failed.get_data(as_text=True)
    assert failed.headers["Cache-Control"] == "no-store"


def test_no_inline_script_in_the_form(client, consultant):
    page = client.get("/book").get_data(as_text=True)
    assert "<script>" not in page and "onclick" not in page
    assert "<script src=" in page


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ok",
        "rate_limit_storage": "ok",
        "worker_last_ran_seconds_ago": None,  # no worker in this test
        "worker": "late",
    }


def test_healthz_reports_a_dead_database():
    broken = make_app("sqlite:////nonexistent-folder/booking.sqlite3")
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "database unavailable"}
    assert broken.test_client().get("/readyz").status_code == 503


@pytest.mark.parametrize("path", ["/nothing-here", "/book/confirmed"])
def test_friendly_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_session_cookie_flags(client, consultant, booking_form):
    response = client.post("/book", data=booking_form())
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_logs_carry_references_never_health_data(
    app, client, consultant, booking_form, caplog, smtp, log_format
):
    app.config["LOG_FORMAT"] = log_format
    caplog.set_level(logging.DEBUG)
    client.post("/book", data=booking_form())
    client.post("/book", data=booking_form(patient_phone="12"))  # a failed attempt too
    smtp.stop()
    dispatch_outbox(db.session)
    format_line = JsonLines().format if log_format == "json" else logging.LogRecord.getMessage
    logged = "\n".join(format_line(record) for record in caplog.records)
    assert "booking CT-" in logged
    for name, value in VALID_ANSWERS.items():
        if name in {
            "treatments",
            "timezone",
            "booked_by",
            "stage",
            "diagnosed",
            "therapy",
            "payment_routes",
            "policy_after_diagnosis",
            "preferred_channel",
            "consult_mode",
            "red_flags",
            "consent_health",
            "consent_reminders",
            "cancer_type",
        }:
            continue
        assert value not in logged, name
    assert "melanoma" not in logged.lower()
    assert db.session.scalar(sa.text("SELECT count(*) FROM appointment")) == 1
    if log_format == "json":
        lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
        [booked] = [
            line for line in lines if line["message"] == "request" and line["status"] == 302
        ]
        assert booked["method"] == "POST" and booked["path"] == "/book"
        assert booked["request_id"] and booked["duration_ms"] >= 0


@pytest.mark.parametrize("path", ["manage", "waitlist/offer", "waitlist/entry"])
def test_request_logs_do_not_keep_link_tokens(app, caplog, path):
    import logging

    caplog.set_level(logging.INFO)
    logging.getLogger("werkzeug").info(
        '%s - - "%s" %s',
        "127.0.0.1",
        f"GET /{path}/AbC_123-xyz456789012345678901234567890 HTTP/1.1",
        200,
    )
    assert "AbC_123" not in caplog.text
    assert f"/{path}/[token]" in caplog.text


def test_every_response_has_a_request_id_and_a_500_page_shows_it(app, client):
    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/broken-for-the-test", "broken_for_the_test", broken)  # before any request
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the 500 page, not a raise
    response = client.get("/book")
    generated = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", generated)
    kept = client.get("/healthz", headers={"X-Request-ID": "proxy-1234-abcd"})
    assert kept.headers["X-Request-ID"] == "proxy-1234-abcd"
    odd = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert odd.headers["X-Request-ID"] != "<script>"
    failed = client.get("/broken-for-the-test")
    assert failed.status_code == 500
    code = failed.headers["X-Request-ID"]
    assert f"please quote this code: <strong>{code}</strong>" in failed.get_data(as_text=True)


def test_request_logs_do_not_keep_staff_searches(app, caplog):
    """A caller's name or number typed into the staff search, or a cancer type chosen as a
    filter, stays out of the access log."""
    import logging

    caplog.set_level(logging.INFO)
    for line in (
        "GET /staff/appointments?q=Asha+Verma&cancer_type=melanoma HTTP/1.1",
        "GET /staff/appointments/export.csv?q=98765 HTTP/1.1",
    ):
        logging.getLogger("gunicorn.access").info('%s - - "%s" %s', "127.0.0.1", line, 200)
    assert "Asha" not in caplog.text and "melanoma" not in caplog.text
    assert "98765" not in caplog.text
    assert "GET /staff/appointments?[query hidden] HTTP/1.1" in caplog.text


BODIES = {
    "json-object": lambda: {"json": {"patient_name": 1}},
    "json-list": lambda: {"json": [1]},
    "file-as-name": lambda: {"data": {"patient_name": (io.BytesIO(b"x"), "name.txt")}},
    "file-as-key": lambda: {"data": {"submission_key": (io.BytesIO(b"x"), "key.txt")}},
    "xml": lambda: {"data": b"<xml/>", "content_type": "application/xml"},
}


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("path", ["/book", "/staff/login", "/manage/" + "x" * 43 + "/cancel"])
def test_posts_other_than_form_fields_are_refused_clearly(client, consultant, path, body):
    """Never a 500: the CSRF check refuses first where a page has one (400), the body check
    everywhere else (415); both answer with the clinic's error page."""
    response = client.post(path, **BODIES[body]())
    assert response.status_code in (400, 415)
    assert "We could not read that form" in response.get_data(as_text=True) or (
        "Something went wrong with that request" in response.get_data(as_text=True)
    )
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0
    if path == "/book":
        assert response.status_code == 415  # /book checks its own CSRF token, after this


@pytest.mark.parametrize(
    "database_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_a_database_error_does_not_carry_the_values_into_the_logs(app, caplog):
    """The exception text is what ends up in logs: it must name the statement, not the
    patient's values bound to it."""
    canary = "Canary Patient, melanoma, +919812345678"
    with pytest.raises(sa.exc.DBAPIError) as failure:
        db.session.execute(sa.text("INSERT INTO no_such_table VALUES (:value)"), {"value": canary})
    db.session.rollback()
    assert canary not in str(failure.value)
    assert "no_such_table" in str(failure.value)
    assert canary not in caplog.text


@pytest.mark.parametrize("app_settings", [{"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1"}])
def test_rate_limit_storage_down_does_not_stop_booking_or_sign_in(
    app, client, consultant, booking_form, app_settings
):
    """Nothing listens on port 1: with Redis gone, booking and sign-in still answer (limits are
    counted in memory meanwhile), and /healthz says so."""
    assert client.post("/book", data=booking_form()).status_code == 302
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)[1]
    signed = client.post(
        "/staff/login", data={"csrf_token": token, "email": "a@b.example", "password": "x" * 12}
    )
    assert signed.status_code in (200, 401, 422)
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["rate_limit_storage"] == "unreachable: counting in memory"
