"""Every rule of the booking form: the message appears next to its field, every other answer
is kept, and nothing is stored."""

import html
import time

import pytest
import sqlalchemy as sa

from booking.core.models import Appointment, AuditEvent, Intake
from booking.extensions import db
from tests.factories import VALID_ANSWERS
from tests.helpers import csrf_token, error_for


def appointments() -> int:
    return db.session.scalar(sa.select(sa.func.count(Appointment.id)))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"booked_by": None}, "booked_by", "Tell us who is booking"),
        ({"booked_by": "robot"}, "booked_by", "Not a valid choice"),
        ({"booked_by": "caregiver"}, "booker_name", "Enter your own name"),
        ({"booked_by": "caregiver", "booker_name": "Ravi"}, "booker_relationship", "related"),
        ({"patient_name": "   "}, "patient_name", "Enter the patient's name"),
        ({"patient_name": "x" * 121}, "patient_name", "120"),
        ({"patient_name": 'Asha <a href="https://evil.example">x</a>'}, "patient_name", "< or >"),
        (
            {"booked_by": "caregiver", "booker_name": "Ravi <b>", "booker_relationship": "son"},
            "booker_name",
            "< or >",
        ),
        ({"patient_email": ""}, "patient_email", "Enter an email address"),
        ({"patient_email": "not-an-email"}, "patient_email", "like name@example.com"),
        ({"patient_email": "a@b"}, "patient_email", "like name@example.com"),
        ({"patient_email": "ë@example.com"}, "patient_email", "only English letters"),
        ({"patient_phone": ""}, "patient_phone", "Enter a phone number"),
        ({"patient_phone": "12345"}, "patient_phone", "country code"),
        ({"patient_phone": "+1 555"}, "patient_phone", "country code"),
        ({"preferred_channel": None}, "preferred_channel", "how we should contact"),
        ({"cancer_type": ""}, "cancer_type", "type of cancer"),
        ({"cancer_type": "flu"}, "cancer_type", "Not a valid choice"),
        ({"stage": ""}, "stage", "stage"),
        ({"diagnosed": ""}, "diagnosed", "when it was diagnosed"),
        ({"diagnosis_details": "x" * 2001}, "diagnosis_details", "2000"),
        ({"treatments": []}, "treatments", "at least one"),
        ({"treatments": ["none", "chemotherapy"]}, "treatments", "cannot be combined"),
        ({"treatments": ["other"], "treatment_details": ""}, "treatment_details", "which other"),
        ({"therapy": None}, "therapy", "treatment you are asking about"),
        ({"birth_date": ""}, "birth_date", "Enter the patient's date of birth"),
        ({"birth_date": "1962-15-08"}, "birth_date", "does not exist"),
        ({"birth_date": "31/02/1970"}, "birth_date", "does not exist"),
        ({"birth_date": "08/15"}, "birth_date", "day/month/year"),
        ({"birth_date": "01/01/2999"}, "birth_date", "future"),
        ({"birth_date": "01/01/1850"}, "birth_date", "check the year"),
        ({"birth_date": "01/01/2015"}, "birth_date", "parent or guardian"),
        ({"payment_routes": []}, "payment_routes", "at least one"),
        ({"payment_routes": ["gold_bars"]}, "payment_routes", "Not a valid choice"),
        ({"payment_routes": ["employer_insurance"], "insurer": ""}, "insurer", "insurance company"),
        (
            {"payment_routes": ["private_insurance"], "policy_after_diagnosis": None},
            "policy_after_diagnosis",
            "bought after the diagnosis",
        ),
        ({"payment_routes": ["state_scheme"]}, "state_scheme", "name of the state scheme"),
        ({"red_flags": None}, "red_flags", "or 'None of these'"),
        ({"red_flags": ["none", "chest_pain"]}, "red_flags", "cannot be ticked together"),
        ({"red_flags": ["itchy"]}, "red_flags", "Choose from the list"),
        ({"own_questions": "q" * 3001}, "own_questions", "3000"),
        ({"consult_mode": None}, "consult_mode", "how you would like"),
        ({"consult_mode": "carrier-pigeon"}, "consult_mode", "Not a valid choice"),
        ({"slot": ""}, "slot", "Choose a time"),
        ({"slot": "2020-01-01T00:00:00Z"}, "slot", "no longer available"),
        ({"slot": "tomorrow at noon"}, "slot", "no longer available"),
        ({"consent_health": None}, "consent_health", "agreement"),
    ],
)
def test_rule_shows_its_message_and_keeps_the_answers(
    client, consultant, booking_form, changes, field, message
):
    response = client.post("/book", data=booking_form(**changes))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message.lower() in error_for(page, field).lower(), error_for(page, field)
    assert "Please check" in page  # the summary at the top links to the field
    assert f'href="#{field}"' in page
    for name in ("patient_name", "birth_date", "insurer", "tpa", "own_questions"):
        if name not in changes:
            assert html.escape(VALID_ANSWERS[name]) in page, name
    assert appointments() == 0


def test_insurance_questions_are_not_required_without_insurance(client, consultant, booking_form):
    data = booking_form(
        payment_routes=["pmjay", "self_pay"], insurer="", policy_after_diagnosis=None
    )
    assert client.post("/book", data=data).status_code == 302


@pytest.mark.parametrize(
    ("routes", "insured"),
    [(["self_pay"], "no"), (["not_sure"], "not_sure"), (["cghs", "esic"], "no")],
)
def test_insurance_answers_are_not_kept_when_they_do_not_apply(
    client, consultant, booking_form, routes, insured
):
    """A patient who typed an insurer, then chose a government scheme instead, has no insurer
    stored; the list's insurance filter still reads the right answer."""
    client.post("/book", data=booking_form(payment_routes=routes, state_scheme="Aarogyasri"))
    intake = db.session.scalar(sa.select(Intake))
    assert intake.payment_route_list == routes
    assert intake.has_insurance == insured
    assert (intake.insurer, intake.tpa, intake.policy_holder) == (None, None, None)
    assert (intake.policy_after_diagnosis, intake.state_scheme) == (None, None)


def test_payment_answers_are_stored_with_the_help_flag(client, consultant, booking_form):
    data = booking_form(
        payment_routes=["employer_insurance", "state_scheme"],
        state_scheme="Mahatma Jyotiba Phule Jan Arogya Yojana",
        policy_after_diagnosis="yes",
        cost_help="y",
    )
    assert client.post("/book", data=data).status_code == 302
    intake = db.session.scalar(sa.select(Intake))
    assert intake.payment_route_list == ["employer_insurance", "state_scheme"]
    assert intake.has_insurance == "yes"
    assert (intake.insurer, intake.tpa) == ("Star Health", "Medi Assist")
    assert intake.state_scheme == "Mahatma Jyotiba Phule Jan Arogya Yojana"
    assert intake.policy_after_diagnosis == "yes"
    assert intake.cost_help is True
    assert intake.policy_number is None  # no longer asked at booking


CAREGIVER = {
    "booked_by": "caregiver",
    "booker_name": "Ravi Verma",
    "booker_relationship": "son",
    "booker_email": "ravi@example.com",
    "booker_phone": "+91 91234 56789",
    "patient_agrees": "not_yet",
    "relative_channel": "email",
}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"booker_email": ""}, "booker_email", "your own email"),
        ({"booker_email": "ravi"}, "booker_email", "like name@example.com"),
        ({"booker_phone": ""}, "booker_phone", "your own phone"),
        ({"booker_phone": "123"}, "booker_phone", "country code"),
        ({"patient_agrees": None}, "patient_agrees", "whether the patient knows"),
        ({"birth_date": "01/01/2015"}, "booker_is_guardian", "parent or guardian"),
    ],
)
def test_a_caregiver_gives_their_own_contact_and_the_patients_agreement(
    client, consultant, booking_form, changes, field, message
):
    response = client.post("/book", data=booking_form(**{**CAREGIVER, **changes}))
    assert response.status_code == 422
    assert message.lower() in error_for(response.get_data(as_text=True), field).lower()
    assert appointments() == 0


def test_a_guardian_books_for_a_child_and_staff_see_the_answers(client, consultant, booking_form):
    data = booking_form(**CAREGIVER, birth_date="03/02/2012", booker_is_guardian="y")
    assert client.post("/book", data=data).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert (appointment.booker_email, appointment.booker_phone) == (
        "ravi@example.com",
        "+919123456789",
    )
    assert appointment.patient_agrees == "not_yet"
    assert appointment.intake.birth_date == "2012-02-03"


def test_the_patient_booking_keeps_no_caregiver_contact(client, consultant, booking_form):
    data = booking_form(booked_by="self", booker_email="x@example.com", patient_agrees="yes")
    assert client.post("/book", data=data).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert (appointment.booker_email, appointment.patient_agrees) == (None, None)


def test_caregiver_answers_are_dropped_when_the_patient_books(client, consultant, booking_form):
    client.post("/book", data=booking_form(booked_by="self", booker_name="Someone"))
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.booker_name is None


def test_other_cancer_name_only_kept_for_other_types(client, consultant, booking_form):
    client.post("/book", data=booking_form(cancer_type="melanoma", cancer_type_other="typo"))
    assert db.session.scalar(sa.select(Intake.cancer_type_other)) is None


def test_phone_and_email_are_normalised(client, consultant, booking_form):
    client.post(
        "/book",
        data=booking_form(patient_phone="098765 43210", patient_email="Asha@Example.COM"),
    )
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.patient_phone == "+919876543210"  # local number, clinic's region
    assert appointment.patient_email == "Asha@example.com"


def test_a_domain_in_another_script_is_kept_in_its_ascii_form(client, consultant, booking_form):
    response = client.post("/book", data=booking_form(patient_email="asha@bücher.example"))
    assert response.status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.patient_email == "asha@xn--bcher-kva.example"


def test_expired_csrf_token_keeps_the_answers_and_asks_again(app, client, consultant, booking_form):
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    data = booking_form()
    time.sleep(2.1)  # let the token expire; the limit is in whole seconds
    response = client.post("/book", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "timed out" in page
    assert 'value="Asha Verma"' in page and "Can I keep working during treatment?" in page
    assert appointments() == 0

    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    fresh = csrf_token(page)
    response = client.post("/book", data=dict(data, csrf_token=fresh))
    assert response.status_code == 302
    assert appointments() == 1


def test_missing_csrf_token_is_refused(client, consultant, booking_form):
    response = client.post("/book", data=booking_form(csrf_token=None))
    assert response.status_code == 422
    assert appointments() == 0


def test_honeypot_filled_stores_nothing(client, consultant, booking_form):
    response = client.post("/book", data=booking_form(leave_blank="http://spam.example"))
    assert response.status_code == 400
    assert appointments() == 0


def test_changing_time_zone_redraws_times_without_booking(client, consultant, booking_form):
    """Inside the details form the zone is changed with every answer kept (no redirect)."""
    data = booking_form(timezone="America/New_York", action="show_times")
    response = client.post("/book", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "(clinic" in page and ("EST" in page or "EDT" in page)
    assert 'class="error"' not in page
    assert 'value="Asha Verma"' in page
    assert appointments() == 0


def test_indian_scripts_keep_their_joiners(client, consultant, booking_form, staff_client):
    """ZWJ and ZWNJ change how Devanagari and other Indian scripts are written; the cleaner
    that drops invisible characters must keep them, from the form to the staff page."""
    name = "श्री\u200cराम वर्मा"
    question = "क्\u200dष किरण चिकित्सा के बाद?"
    response = client.post("/book", data=booking_form(patient_name=name, own_questions=question))
    assert response.status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.patient_name == name
    assert appointment.intake.own_questions == question
    page = staff_client.get(f"/staff/appointments/{appointment.reference}")
    assert name in page.get_data(as_text=True) and question in page.get_data(as_text=True)


def test_the_form_says_what_the_consult_is_and_is_not(client, consultant):
    page = client.get("/book").get_data(as_text=True)
    assert "not standard treatments" in page
    assert "does not replace your treating oncologist" in page
    assert "the treatment itself is not free" in page
    for claim in ("precise", "remission", "boosts immunity", "groundbreaking"):
        assert claim not in page.lower()


def post_as_stranger(app, data):
    """Another browser posts the form: anyone can type anyone's email into it."""
    stranger = app.test_client()
    token = csrf_token(stranger.get("/book").get_data(as_text=True))
    return stranger.post("/book", data=dict(data, csrf_token=token))


def test_one_address_holds_at_most_two_upcoming_consults(app, client, consultant, booking_form):
    app.config["MAX_BOOKINGS_PER_EMAIL"] = 2
    for index in range(2):
        assert client.post("/book", data=booking_form(slot_index=index)).status_code == 302
    response = post_as_stranger(app, booking_form(slot_index=5))
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    # The page does not confirm that this email belongs to a patient.
    message = error_for(page, "patient_email")
    assert message.startswith("We could not book this time for this email.")
    assert app.config["CLINIC_PHONE"] in message
    for telling in ("upcoming", "already has", "CT-"):
        assert telling not in message
    assert html.escape(VALID_ANSWERS["own_questions"]) in page  # everything typed is kept
    assert appointments() == 2
    # Staff find the real reason on the latest booking's trail.
    latest = db.session.scalars(sa.select(Appointment).order_by(Appointment.id.desc())).first()
    refused = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "booking_refused"))
    assert (refused.appointment_id, refused.actor, refused.detail) == (
        latest.id,
        "patient",
        "2 upcoming consults",
    )
    other = client.post("/book", data=booking_form(slot_index=5, patient_email="ravi@example.com"))
    assert other.status_code == 302


def test_a_stranger_typing_a_booked_email_and_time_learns_nothing(
    app, client, consultant, booking_form
):
    data = booking_form(slot_index=3)
    assert client.post("/book", data=data).status_code == 302
    reference = db.session.scalar(sa.select(Appointment.reference))
    response = post_as_stranger(app, booking_form(slot=data["slot"]))  # the same email and time
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert error_for(page, "patient_email").startswith("We could not book this time")
    assert reference not in page and "already has" not in page
    assert appointments() == 1


@pytest.mark.parametrize("typed", ["15081962", "15 08 1962", "15.08.1962", "1962-08-15"])
def test_a_date_of_birth_typed_on_a_number_pad_is_read_day_first(
    client, consultant, booking_form, typed
):
    """A phone's number pad has no "/": eight digits, or spaces, are read as day, month, year."""
    assert client.post("/book", data=booking_form(birth_date=typed)).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.intake.birth_date == "1962-08-15"


def _refusal(check, form) -> str | None:
    try:
        check(form)
    except ValueError as error:  # WTForms' ValidationError is a ValueError
        return str(error)
    return None


def test_the_quick_choice_check_answers_as_wtforms_does(app):
    """The booking form's choice fields check an answer against a set of values; every answer
    a field can get, right or wrong, single or several, is accepted or refused exactly as
    WTForms' own check does, with its words."""
    from wtforms import SelectMultipleField

    from booking.web.booking_form import BookingForm
    from booking.web.fields import QuickChoices

    checked = 0
    with app.test_request_context("/book", method="POST"):
        fields = [f for f in BookingForm(formdata=None) if isinstance(f, QuickChoices)]
        assert len(fields) >= 10
        for field in fields:
            values = list(field.choices)
            several = isinstance(field, SelectMultipleField)
            answers = (
                [[value] for value in values] + [[], ["nonsense"], [values[0], "nonsense"]]
                if several
                else [*values, "", "nonsense", None]
            )
            for answer in answers:
                field.data = answer
                field.process_errors = []
                ours = _refusal(field.pre_validate, None)
                theirs = _refusal(
                    lambda form, f=field: super(QuickChoices, f).pre_validate(form), None
                )
                assert ours == theirs, (field.name, answer, ours, theirs)
                checked += 1
    assert checked > 50
