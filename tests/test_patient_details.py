"""The booking form meets families as they are: an elder with no recorded date of birth, a
blood cancer that has no stage, a relative answering for a patient who may not know the
diagnosis, the ways Indian families pay, and a privacy notice that says what really happens."""

from datetime import date

import sqlalchemy as sa

from booking.core.models import Appointment
from booking.core.timeutil import clinic_today, now_utc
from booking.extensions import db
from booking.intake.birth_dates import Born
from booking.intake.consultant_summary import consultant_summary
from booking.messages.outbox import dispatch_outbox
from tests.helpers import error_for
from tests.test_readers import BY_HER_SON, MOTHER, SON, TELLING, text_of


def booked() -> Appointment:
    return db.session.scalars(sa.select(Appointment).order_by(Appointment.id.desc())).first()


def test_a_year_of_birth_or_an_age_is_kept_as_a_year_and_shown_as_about(
    client, consultant, booking_form, staff_client
):
    assert client.post("/book", data=booking_form(birth_date="1952")).status_code == 302
    first = booked()
    assert first.intake.birth_date == "1952"
    consult_day = first.starts_at.date()
    summary = consultant_summary(first, consult_day)
    age = next(line for line in summary.lines if line.label == "Age")
    assert age.value == f"about {consult_day.year - 1952} (born in 1952; exact date not known)"
    assert "Age" not in summary.missing

    typed_age = booking_form(slot_index=1, birth_date="74", patient_email="b@example.com")
    assert client.post("/book", data=typed_age).status_code == 302
    assert booked().intake.birth_date == str(clinic_today().year - 74)

    page = staff_client.get(f"/staff/appointments/{first.reference}").get_data(as_text=True)
    assert f"about {consult_day.year - 1952}" in page
    csv = staff_client.get("/staff/appointments/export.csv?date_from=").get_data(as_text=True)
    heading, *rows = csv.splitlines()
    assert "Age at the consult" in heading
    assert any(f",about {consult_day.year - 1952}," in row for row in rows)


def test_an_age_or_year_that_cannot_be_right_is_explained_next_to_the_field(
    client, consultant, booking_form
):
    for typed, words in (
        ("150", "check the age"),
        (str(clinic_today().year + 1), "future"),
        ("sometime", "the year of birth (1952) or the age (74)"),
    ):
        response = client.post("/book", data=booking_form(birth_date=typed))
        assert response.status_code == 422
        assert words in error_for(response.get_data(as_text=True), "birth_date")
    under_age = client.post("/book", data=booking_form(birth_date="12"))
    assert "parent or guardian" in error_for(under_age.get_data(as_text=True), "birth_date")


def test_an_exact_date_is_still_shown_with_the_age():
    born = Born.from_stored("1962-08-15")
    assert born is not None
    assert born.in_words(date(2027, 8, 14)) == "64 (born 15 Aug 1962)"
    assert born.as_typed() == "15/08/1962"


def test_a_blood_cancer_without_a_stage_is_not_missing_one(client, consultant, booking_form):
    form = booking_form(cancer_type="cml", stage="no_stage", birth_date="1955")
    assert client.post("/book", data=form).status_code == 302
    appointment = booked()
    summary = consultant_summary(appointment, appointment.starts_at.date())
    assert "Stage not known" not in summary.missing
    assert appointment.intake.stage == "no_stage"


def test_the_cancers_and_ways_of_paying_added_are_accepted(
    client, consultant, booking_form, staff_client
):
    for index, cancer in enumerate(("mpn", "ctcl", "bladder")):
        form = booking_form(
            slot_index=index,
            patient_email=f"p{index}@example.com",
            cancer_type=cancer,
            payment_routes=["relief_fund", "critical_illness", "capf", "state_employee"],
        )
        assert client.post("/book", data=form).status_code == 302
    assert booked().intake.payment_routes == "capf,state_employee,critical_illness,relief_fund"
    csv = staff_client.get("/staff/appointments/export.csv?date_from=").get_data(as_text=True)
    assert "Bladder cancer" in csv and "Cutaneous T-cell lymphoma" in csv
    assert "Rashtriya Arogya Nidhi" in csv


def test_a_relative_who_says_the_patient_does_not_know_keeps_the_illness_out_of_her_messages(
    client, consultant, booking_form, smtp
):
    consultant_app = client.application
    consultant_app.config["STAFF_NOTIFY_EMAILS"] = []
    son = dict(BY_HER_SON, patient_agrees="yes", knows_diagnosis="no", speaks_first="family")
    assert client.post("/book", data=booking_form(**son)).status_code == 302
    appointment = booked()
    # Nobody chose who gets the messages: the son alone, as the patient may not know.
    assert appointment.messages_to == "relative"
    assert appointment.intake.knows_diagnosis == "no"
    assert appointment.intake.speaks_first == "family"

    both = dict(son, messages_to="both", patient_email="kamla.devi@example.com")
    assert client.post("/book", data=booking_form(slot_index=1, **both)).status_code == 302
    while dispatch_outbox(db.session, now_utc()).claimed:
        pass
    to_mother = [m for m in smtp.messages if m["To"] == "kamla.devi@example.com"]
    to_son = [m for m in smtp.messages if m["To"] == SON]
    assert len(to_mother) == 1 and len(to_son) == 2
    mother_text = text_of(to_mother[0]) + to_mother[0]["Subject"]
    assert not [word for word in TELLING if word in mother_text]
    assert "Questions to ask" in text_of(to_son[-1])
    assert MOTHER not in [m["To"] for m in smtp.messages]


def test_the_answers_about_the_diagnosis_are_not_kept_when_the_patient_books(
    client, consultant, booking_form
):
    mine = booking_form(knows_diagnosis="no", speaks_first="family")
    assert client.post("/book", data=mine).status_code == 302
    appointment = booked()
    assert appointment.messages_to == "patient"
    assert appointment.intake.knows_diagnosis is None
    assert appointment.intake.speaks_first is None


def test_the_relatives_consent_speaks_for_the_patient(client, consultant, booking_form):
    response = client.post("/book", data=booking_form(consent_health=None, **BY_HER_SON))
    shown = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ">The patient agrees (or I am their legal guardian) that the clinic stores" in shown
    mine = client.post("/book", data=booking_form(consent_health=None)).get_data(as_text=True)
    assert ">I agree that the clinic stores the health information" in mine


def test_the_privacy_notice_says_what_a_relatives_link_can_do_and_where_video_happens(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "they can see, download and delete everything we hold about the booking" in page
    assert "A video consult takes place on meet.jit.si" in page
    assert "days after the consult or a cancellation, sooner if you ask" in page
    assert "<strong>Correct</strong> anything we hold" in page
