"""Arbitrary text, oversized values and odd Unicode in every field: never a 500, and a booking
is either written whole (appointment, intake, reminders, two emails) or not at all."""

import string

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from booking.core.models import Appointment, Intake, OutboundEmail, Reminder
from booking.extensions import db
from tests.factories import VALID_ANSWERS
from tests.helpers import assert_only_app_markup, csrf_token, write_unwritten_emails

FIELDS = [name for name in VALID_ANSWERS if name != "treatments"] + [
    "treatments",
    "slot",
    "submission_key",
    "booker_name",
    "booker_relationship",
    "cancer_type_other",
    "leave_blank",
    "action",
    "show_day",
]

# Surrogates cannot be sent as UTF-8 at all, so no browser can send them.
odd_text = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=80),
    st.text(st.sampled_from("\x00\x07\u200b\u202e\ufeff\n\r\t '\"<>&;%" + string.ascii_letters)),
    st.sampled_from(["", " ", "\x00", "🦠" * 500, "ä" * 5000, "x" * 300_000, "' OR 1=1 --"]),
)


def counts():
    return tuple(
        db.session.scalar(sa.select(sa.func.count(model.id)))
        for model in (Appointment, Intake, Reminder, OutboundEmail)
    )


def test_arbitrary_input_never_breaks_the_service(app, client, consultant, booking_form):
    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        st.dictionaries(st.sampled_from(FIELDS), odd_text, min_size=1, max_size=6),
        st.integers(min_value=0, max_value=300),
    )
    def check(changes, slot_index):
        data = booking_form(slot_index=slot_index)
        if "treatments" in changes:
            changes["treatments"] = [changes["treatments"]]
        data.update(changes)
        response = client.post("/book", data=data)
        assert response.status_code < 500, response.status_code
        assert response.status_code in (200, 302, 400, 409, 413, 422, 429)

        appointments, intakes, reminders, emails = counts()
        assert appointments == intakes
        assert reminders == 2 * appointments
        assert emails == 2 * appointments
        if response.status_code == 302:
            stored = db.session.scalar(
                sa.select(Appointment).order_by(Appointment.id.desc()).limit(1)
            )
            # What was stored reads back, decrypted, as valid text.
            assert isinstance(stored.intake.own_questions or "", str)
            assert "\x00" not in (stored.patient_name + (stored.intake.own_questions or ""))
            # Whatever was typed, the emails it went into carry only the templates' markup.
            write_unwritten_emails(db.session)
            emails = db.session.scalars(
                sa.select(OutboundEmail).where(OutboundEmail.appointment_id == stored.id)
            ).all()
            for email in emails:
                assert_only_app_markup(email.body_html, app.config["BASE_URL"], email.kind)
        db.session.remove()

    check()


def test_arbitrary_choices_of_a_day_or_a_time_never_break_the_first_step(client, consultant):
    page = client.get("/book").get_data(as_text=True)
    token = csrf_token(page)

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(odd_text, odd_text, odd_text)
    def check(day, zone, slot):
        shown = client.get("/book", query_string={"day": day, "from": day, "tz": zone})
        assert shown.status_code in (200, 400), shown.status_code
        chosen = client.post(
            "/book/time", data={"csrf_token": token, "slot": slot, "timezone": zone}
        )
        assert chosen.status_code in (303, 400, 409, 413, 422), chosen.status_code
        details = client.get("/book/details")
        assert details.status_code in (200, 302)
        db.session.remove()

    check()
