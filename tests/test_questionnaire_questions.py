"""The questionnaire's questions as a family meets them, through real HTTP: the ones a consultant
needs before cytokine therapy (diabetes, tobacco and alcohol, bipolar disorder or psychosis,
TB or hepatitis B at any time, the last immunotherapy and its side effects, treated brain
spread, the steroid's dose, heart and lung tests) saved, shown again and summed up; questions
that name the patient when a relative answers; and what thoughts of self-harm in the past get."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from booking.core.audit import Actor
from booking.core.models import Appointment
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.intake.health_questionnaire import answers_of
from booking.intake.health_questionnaire import save as save_answers
from tests.databases import BOTH_DATABASES
from tests.test_questionnaire import FINISHED, book_with_link, post, stored
from tests.test_readers import MOTHER, SON, book, send_all, text_of

pytestmark = BOTH_DATABASES

NEW_ANSWERS = {
    "filled_by": "together",
    "earlier_immunotherapy": ["checkpoint"],
    "last_immunotherapy": "March 2026",
    "immune_side_effects": ["bowel", "hormones"],
    "spread": ["lungs", "brain"],
    "brain_treated": "not_yet",
    "condition_diabetes": "yes",
    "condition_psychosis": "yes",
    "condition_tb_hepatitis_b": "yes",
    "medicine_steroids": "yes",
    "steroid_dose": "Dexamethasone 4 mg twice a day",
    "tobacco": "now",
    "alcohol": "most_days",
    "reports": ["biopsy", "ecg", "echo", "lung_function"],
}


@pytest.fixture
def booked(client, consultant, booking_form, smtp):
    return book_with_link(client, booking_form, smtp)


def look_at_first(staff_client, appointment) -> str:
    page = staff_client.get(f"/staff/appointments/{appointment.reference}").get_data(as_text=True)
    summary = page[page.index("Summary for the consultant") : page.index('id="h-consult"')]
    return summary[summary.index("Look at first") : summary.index("Missing")]


def test_the_new_questions_are_kept_shown_again_and_summed_up(client, booked, staff_client):
    appointment, link = booked
    response = post(client, link, "send", **{**FINISHED, **NEW_ANSWERS})
    assert response.status_code == 302
    answers = answers_of(stored(appointment))
    assert {name: answers[name] for name in NEW_ANSWERS} == NEW_ANSWERS

    page = client.get(link).get_data(as_text=True)
    assert 'value="March 2026"' in page and 'value="Dexamethasone 4 mg twice a day"' in page
    for checked in (
        'id="filled_by-2" name="filled_by" type="radio" value="together"',
        'id="brain_treated-1" name="brain_treated" type="radio" value="not_yet"',
        'id="tobacco-0" name="tobacco" type="radio" value="now"',
        'id="condition_psychosis-0" name="condition_psychosis" type="radio" value="yes"',
        'id="reports-5" name="reports" type="checkbox" value="echo"',
    ):
        assert f"<input checked {checked}" in page, checked

    first = look_at_first(staff_client, appointment)
    for shown in (
        "Diabetes (sugar)",
        "Bipolar disorder, psychosis or schizophrenia, at any time",
        "TB or hepatitis B, at any time, even if it was treated",
        "Spread to the brain (not treated yet)",
        "Takes steroids: Dexamethasone 4 mg twice a day",
        "(last dose March 2026)",
        "Immune side effects before: Bad diarrhoea or bowel inflammation (colitis), Thyroid, "
        "adrenal or pituitary problems that need tablets",
        "Uses tobacco now",
        "Drinks alcohol on most days",
    ):
        assert shown in first, shown
    answers_page = staff_client.get(f"/staff/appointments/{appointment.reference}").get_data(
        as_text=True
    )
    assert "Echo (heart ultrasound) or MUGA scan" in answers_page
    assert "Lung function test (spirometry, PFT)" in answers_page


def test_a_question_that_follows_from_an_answer_is_kept_only_when_asked(client, booked):
    appointment, link = booked
    not_asked = {
        "earlier_immunotherapy": ["none"],
        "last_immunotherapy": "2025",
        "spread": ["lungs"],
        "brain_treated": "treated",
        "medicine_steroids": "no",
        "steroid_dose": "Prednisolone 10 mg",
    }
    assert post(client, link, "save", **not_asked).status_code == 302
    answers = answers_of(stored(appointment))
    assert answers["spread"] == ["lungs"] and answers["medicine_steroids"] == "no"
    assert not {"last_immunotherapy", "brain_treated", "steroid_dose"} & set(answers)


def test_an_answer_to_a_question_no_longer_asked_is_kept_and_shown(client, booked, staff_client):
    appointment, link = booked
    row = db.session.get(Appointment, appointment.id)
    save_answers(db.session, row, {"condition_infection": "yes"}, False, now_utc(), Actor.system())
    db.session.commit()

    assert post(client, link, "save", city="Nagpur").status_code == 302
    answers = answers_of(stored(appointment))
    assert answers == {"condition_infection": "yes", "city": "Nagpur"}
    first = look_at_first(staff_client, appointment)
    assert "An infection now: TB, hepatitis B or C, HIV, or another (earlier question)" in first


def test_a_relative_is_asked_about_the_patient_by_name_and_the_patient_is_asked_directly(
    app, client, consultant, book_at, smtp
):
    book(book_at, patient_agrees="yes", messages_to="both")
    [mother] = send_all(smtp, MOTHER)
    [son] = send_all(smtp, SON)
    hers, his = (re.search(r"/manage/[\w-]+/questionnaire", text_of(m))[0] for m in (mother, son))

    page = client.get(his).get_data(as_text=True)
    assert '<input checked id="filled_by-1" name="filled_by" type="radio" value="relative">' in page
    assert ">Has Kamla Devi had thoughts of self-harm or of ending their life?</legend>" in page
    assert ">Is Kamla Devi pregnant or breastfeeding?</legend>" in page
    assert ">City or town where Kamla Devi lives</label>" in page
    # Both wordings are on the page, for when the answer to "Who is filling this in?" changes.
    assert 'data-self="Have you had thoughts of harming yourself or of ending your life?"' in page

    page = client.get(hers).get_data(as_text=True)
    assert '<input checked id="filled_by-0" name="filled_by" type="radio" value="patient">' in page
    assert ">Have you had thoughts of harming yourself or of ending your life?</legend>" in page

    # The son sends it for his mother; his choice, not whose link it is, decides the wording.
    answers = {**FINISHED, "filled_by": "patient", "distress": "12"}
    response = post(client, his, "save", **answers)
    assert ">Have you had thoughts of harming yourself or of ending your life?</legend>" in (
        response.get_data(as_text=True)
    )


def test_a_name_that_looks_like_markup_is_shown_as_typed(app, client, consultant, book_at, smtp):
    book(book_at, patient_agrees="yes", messages_to="relative", patient_name="Kamla <b>Devi</b>")
    [son] = send_all(smtp, SON)
    link = re.search(r"/manage/[\w-]+/questionnaire", text_of(son))[0]
    page = client.get(link).get_data(as_text=True)
    assert "<b>Devi</b>" not in page
    assert "Has Kamla &lt;b&gt;Devi&lt;/b&gt; had thoughts of self-harm" in page


def test_thoughts_in_the_past_get_what_to_do_if_they_come_back(client, booked):
    appointment, link = booked
    page = post(client, link, "save", self_harm="past").get_data(as_text=True)
    alert = page[page.index('role="alert"') : page.index("<h1>")]
    assert "If these thoughts come back, call Tele-MANAS" in alert
    assert 'href="tel:14416"' in alert and "Please talk to someone now" not in alert
    assert "Our team will also call +91 98765 43210 during clinic hours" in alert

    page = post(client, link, "save", self_harm="now").get_data(as_text=True)
    alert = page[page.index('role="alert"') : page.index("<h1>")]
    assert "Please talk to someone now" in alert and "come back" not in alert
    assert json.loads(stored(appointment).answers)["self_harm"] == "now"
    assert db.session.scalar(sa.select(Appointment.urgent).where(Appointment.id == appointment.id))
