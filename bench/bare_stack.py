"""The bare-stack reference for ``POST /book``: the least a booking request can cost on this
stack. A minimal Flask app validates a form with the same fields (WTForms, CSRF on) and inserts
one row into the same database; the booking service's time per booking is compared with it,
both measured in this process with Flask's test client, in the same run."""

from __future__ import annotations

import re
import time

import sqlalchemy as sa
from flask import Flask, redirect, render_template_string
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import BooleanField, RadioField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length

from bench.harness import SECRET, add_consultants, app_for, fresh_database, migrate
from bench.post_load import booking_data as load_booking_data
from booking.extensions import db

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SLOT = re.compile(r'name="slot" id="slot-\d+" value="(\d{4}-[^"]+Z)"')
DAY = re.compile(r'data-day href="/book\?day=(\d{4}-\d\d-\d\d)')
TEXT_FIELDS = (
    "patient_name",
    "patient_email",
    "patient_phone",
    "birth_date",
    "diagnosis_details",
    "insurer",
    "timezone",
    "shown_timezone",
    "slot",
    "submission_key",
)
CHOICE_FIELDS = (
    "booked_by",
    "preferred_channel",
    "therapy",
    "cancer_type",
    "stage",
    "diagnosed",
    "policy_after_diagnosis",
    "consult_mode",
)


def booking_data(csrf: str, slot: str, number: int) -> dict:
    """One valid booking, exactly as bench/post_load.py sends it."""
    return load_booking_data(csrf, slot, str(number))


def bare_app(url: str) -> Flask:
    """Flask, Flask-WTF and one INSERT through SQLAlchemy Core: nothing else."""
    app = Flask("bare")
    app.config.update(SECRET_KEY=SECRET)
    CSRFProtect(app)
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(
        "bare_booking",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        *(sa.Column(name, sa.String(200)) for name in TEXT_FIELDS + CHOICE_FIELDS),
        sa.Column("treatments", sa.String(200)),
        sa.Column("payment_routes", sa.String(200)),
        sa.Column("red_flags", sa.String(200)),
    )
    meta.drop_all(engine)
    meta.create_all(engine)

    fields = {name: StringField(name, [DataRequired(), Length(max=200)]) for name in TEXT_FIELDS}
    fields["patient_email"] = StringField("email", [DataRequired(), Email()])
    for name in CHOICE_FIELDS:
        fields[name] = StringField(name, [DataRequired(), Length(max=30)])
    for name in ("treatments", "payment_routes", "red_flags"):
        fields[name] = SelectMultipleField(name, validate_choice=False)
    fields["consent_health"] = BooleanField("consent", [DataRequired()])
    fields["consent_reminders"] = BooleanField("reminders")
    fields["unused"] = RadioField("unused", choices=[("a", "a")], validate_choice=False)
    form_class = type("BareForm", (FlaskForm,), fields)

    @app.get("/book")
    def form_page():
        return render_template_string("{{ form.csrf_token }}", form=form_class())

    @app.post("/book")
    def book():
        form = form_class()
        if not form.validate_on_submit():
            return str(form.errors), 422
        values = {name: form[name].data for name in TEXT_FIELDS + CHOICE_FIELDS}
        for name in ("treatments", "payment_routes", "red_flags"):
            values[name] = ",".join(form[name].data)
        with engine.begin() as connection:
            connection.execute(table.insert().values(**values))
        return redirect("/book/done")

    app.extensions["bare_engine"] = engine
    return app


def _time_posts(client, make_data, count: int) -> float:
    """Median milliseconds per booking over ``count`` bookings, after a warm-up."""
    for number in range(10):
        assert client.post("/book", data=make_data(number)).status_code == 302
    timings = []
    for number in range(10, 10 + count):
        started = time.perf_counter()
        response = client.post("/book", data=make_data(number))
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 302, response.status_code
    timings.sort()
    return timings[len(timings) // 2]


def in_process_bench(backend: str, folder, count: int = 200) -> dict:
    """Time per booking of the service and of the bare stack, on the same database."""
    url = fresh_database(backend, folder, "booking_in_process")
    migrate(url)
    app = app_for(url, SESSION_COOKIE_SECURE=False, BASE_URL="http://localhost")
    with app.app_context():
        add_consultants(10)
        db.session.remove()
    client = app.test_client()
    page = client.get("/book?tz=Asia/Kolkata").get_data(as_text=True)
    csrf = CSRF.search(page)[1]
    slots = set(SLOT.findall(page))
    for day in DAY.findall(page):
        slots.update(SLOT.findall(client.get(f"/book?day={day}").get_data(as_text=True)))
    ordered = sorted(slots)
    service_ms = _time_posts(
        client, lambda n: booking_data(csrf, ordered[n // 10], n), min(count, len(ordered) * 10)
    )
    with app.app_context():
        db.engine.dispose()

    bare = bare_app(url)
    bare_client = bare.test_client()
    bare_csrf = CSRF.search(bare_client.get("/book").get_data(as_text=True))[1]
    bare_ms = _time_posts(bare_client, lambda n: booking_data(bare_csrf, ordered[0], n), count)
    bare.extensions["bare_engine"].dispose()
    return {"service_ms": service_ms, "bare_ms": bare_ms, "ratio": service_ms / bare_ms}
