"""The consultant summary's clinical rules, one row each: what makes an answer "look at first",
and what the consult cannot go without. Each rule is tested on its own, so moving or dropping
one fails its row."""

from __future__ import annotations

from datetime import date

import pytest

from booking.core.models import Appointment, Intake
from booking.intake import choices
from booking.intake.consultant_summary import (
    consultant_summary,
    red_flags_text,
    what_is_missing,
    what_needs_care,
)

TRANSPLANT = dict(choices.CONDITIONS)["transplant"]


@pytest.mark.parametrize(
    ("answers", "looked_at_first"),
    [
        ({"medicine_steroids": "yes"}, ["Takes steroids"]),
        ({"medicine_steroids": "no"}, []),
        ({"spread": ["lymph_nodes", "brain"]}, ["Spread to the brain"]),
        ({"spread": ["lymph_nodes"]}, []),
        ({"daily_activity": "1"}, []),
        ({"daily_activity": "2"}, ["Daily activity limited (ECOG 2)"]),
        ({"daily_activity": "4"}, ["Daily activity limited (ECOG 4)"]),
        ({"pregnancy": "pregnant"}, [choices.label(choices.PREGNANCY, "pregnant")]),
        ({"pregnancy": "breastfeeding"}, [choices.label(choices.PREGNANCY, "breastfeeding")]),
        ({"pregnancy": "no"}, []),
        (
            {"earlier_immunotherapy": ["interferon"]},
            ["Has had: " + choices.label(choices.EARLIER_IMMUNOTHERAPY, "interferon")],
        ),
        ({"earlier_immunotherapy": ["none"]}, []),
        ({"condition_transplant": "yes"}, [TRANSPLANT]),
        ({"bad_reactions": "yes"}, ["A bad reaction to an earlier cancer treatment"]),
        ({}, []),
    ],
)
def test_what_a_consultant_looks_at_first(answers, looked_at_first):
    assert what_needs_care(answers)[0] == looked_at_first


@pytest.mark.parametrize(
    ("answers", "treatments", "looked_at_first"),
    [
        ({}, ["steroids"], ["Takes steroids"]),
        ({"medicine_steroids": "no"}, ["chemotherapy", "steroids"], ["Takes steroids"]),
        (
            {"medicine_steroids": "yes", "steroid_dose": "Prednisolone 10 mg"},
            ["steroids"],
            ["Takes steroids: Prednisolone 10 mg"],
        ),
        ({"condition_transplant": "no"}, ["transplant"], [TRANSPLANT]),
        ({"condition_transplant": "yes"}, ["transplant"], [TRANSPLANT]),
        ({}, ["chemotherapy"], []),
    ],
)
def test_steroids_and_a_transplant_ticked_on_the_booking_form_count_too(
    answers, treatments, looked_at_first
):
    assert what_needs_care(answers, treatments)[0] == looked_at_first


@pytest.mark.parametrize(
    ("answers", "looked_at_first"),
    [
        ({"spread": ["brain"], "brain_treated": "treated"}, ["Spread to the brain (treated)"]),
        ({"tobacco": "now"}, ["Uses tobacco now"]),
        ({"tobacco": "stopped"}, []),
        ({"alcohol": "most_days"}, ["Drinks alcohol on most days"]),
        ({"alcohol": "sometimes"}, []),
        ({"immune_side_effects": ["none"]}, []),
        (
            {"immune_side_effects": ["lung"]},
            ["Immune side effects before: Lung inflammation (pneumonitis)"],
        ),
    ],
)
def test_the_questionnaires_newer_answers_a_consultant_looks_at_first(answers, looked_at_first):
    assert what_needs_care(answers)[0] == looked_at_first


def test_a_condition_the_patient_is_not_sure_of_is_listed_apart():
    needs_care, not_sure = what_needs_care({"condition_transplant": "not_sure"})
    assert needs_care == [] and not_sure == [TRANSPLANT]


def booking(stage="3", birth_date="1952-03-01", urgent=False, red_flags="none") -> Appointment:
    appointment = Appointment(urgent=urgent, booked_by="self")
    appointment.intake = Intake(
        cancer_type="melanoma",
        stage=stage,
        diagnosed="3to12m",
        treatments="none",
        has_insurance="no",
        birth_date=birth_date,
        red_flags=red_flags,
    )
    return appointment


@pytest.mark.parametrize(
    ("appointment", "answers", "state", "missing"),
    [
        (booking(), {"reports": ["biopsy"]}, "done", []),
        (booking(stage="unknown"), {"reports": ["biopsy"]}, "done", ["Stage not known"]),
        (booking(birth_date=None), {"reports": ["biopsy"]}, "done", ["Age"]),
        (booking(), {}, "not_yet", ["Health questionnaire not sent"]),
        (
            booking(),
            {"reports": ["biopsy"]},
            "started",
            ["Health questionnaire started, not sent"],
        ),
        (booking(), {"reports": ["scans"]}, "done", ["Biopsy or histopathology report"]),
        (booking(), {"reports": ["none"]}, "done", ["Biopsy or histopathology report"]),
    ],
)
def test_what_the_consult_cannot_go_without(appointment, answers, state, missing):
    assert what_is_missing(appointment, answers, state) == missing


def test_urgent_before_the_checklist_is_said_in_the_checklists_words():
    assert red_flags_text(booking(urgent=True, red_flags=None)) == (
        "Urgent (answered before the checklist)"
    )
    assert red_flags_text(booking(red_flags=None)) == "—"


def test_the_summary_marks_the_age_when_it_is_unknown(app):
    summary = consultant_summary(booking(birth_date=None), date(2027, 1, 4))
    age = next(line for line in summary.lines if line.label == "Age")
    assert age.attention and "Not asked" in age.value
    assert "Age" in summary.missing
