"""The pre-visit question list presumes nothing: what each patient is sent, item by item, once
a clinician has approved the wording of 0020, and the wording they keep getting until then."""

from datetime import date

import pytest
import sqlalchemy as sa

from booking.core.models import Intake, PreVisitQuestion, StaffUser
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.intake.clinical_review import approve_question
from booking.intake.previsit_questions import question_list, questions_for
from tests.databases import BOTH_DATABASES

GENERAL = [
    "What is the goal of treatment for me",
    "Is cytokine therapy a standard treatment for my cancer",
    "What other options do I have",
    "Which tests are needed before treatment could start",
    "Do any of my other health conditions make this treatment unsafe",
    "Which of my medicines, including Ayurvedic",
    "What are the potential side effects",
    "What long-term effects could treatment have",
    "Which symptoms mean I should contact my care team",
    "How will my progress be monitored",
    "Where would treatment be given",
    "Whom do we call at night or at the weekend",
    "How would treatment affect work and daily life",
    "Can treatment affect fertility?",
    "What would the whole treatment cost",
    "Will my insurer or government scheme pay",
    "Can the hospital help with pre-authorisation",
    "Can you recommend support groups",
    "Is there a clinical trial I could join?",
    "Can I have a second opinion",
    "How can my family help",
]
BREAST = [
    "Which tests on the tumour (hormone receptors, HER2) have been done",
    "Where, if anywhere, would cytokine therapy fit among the standard treatments for my breast",
]
INTERFERON = [
    "If it were offered to me, who would teach us to give interferon injections",
    "If it were offered to me: interferon can cause low mood",
    "Has interferon been shown in proper trials to help my kind of cancer? If not, why suggest",
]
IL2 = [
    "If it were offered to me, how many days in hospital would each high-dose interleukin-2",
    "If it were offered to me, how would severe reactions to interleukin-2 be watched for",
    "Has interleukin-2 been shown in proper trials to help my kind of cancer?",
    "How many patients has your team treated with high-dose interleukin-2, and is there an "
    "intensive care unit",
]


def assert_questions(actual: list[str], expected_starts: list[str]) -> None:
    """Item by item: the same questions, in the same order."""
    assert len(actual) == len(expected_starts), "\n".join(actual)
    for question, start in zip(actual, expected_starts, strict=True):
        assert question.startswith(start), (question, start)


@pytest.fixture
def approved(app, create_staff):
    """A clinician has approved every question waiting."""
    create_staff("dr.mehta@clinic.example", name="Dr Mehta")
    clinician = db.session.scalar(
        sa.select(StaffUser).where(StaffUser.email == "dr.mehta@clinic.example")
    )
    clinician.is_clinician = True
    for question in db.session.scalars(sa.select(PreVisitQuestion)):
        approve_question(db.session, question, clinician, now_utc())
    db.session.commit()


@BOTH_DATABASES
def test_breast_cancer_and_interferon_item_by_item(approved):
    questions = question_list(db.session, "breast", "interferon", ["hormone"], age=58)
    assert_questions(
        questions, [*[q for q in GENERAL if "fertility" not in q], *BREAST, *INTERFERON]
    )


def test_the_fertility_question_goes_only_to_patients_under_50(approved):
    def fertility(age):
        questions = question_list(db.session, "melanoma", "interleukin2", [], age=age)
        return any("fertility" in question for question in questions)

    assert fertility(49)
    assert not fertility(50)
    assert not fertility(74)
    assert fertility(None)  # age not known: it presumes nothing either way


def test_a_74_year_old_known_only_by_year_is_not_asked_about_fertility(approved):
    consult = date(2027, 3, 1)
    intake = Intake(cancer_type="cml", therapy="interferon", treatments="", birth_date="1953")
    questions = questions_for(db.session, intake, consult)
    assert not any("fertility" in question for question in questions)
    assert any("Is interferon still used for my type of leukaemia" in q for q in questions)


def test_not_sure_gets_both_therapies_and_every_list_has_the_trials_question(approved):
    questions = question_list(db.session, "other", "not_sure", [], age=40)
    assert_questions(questions, [*GENERAL, *IL2, *INTERFERON[:2], INTERFERON[2]])
    for therapy, name in (("interleukin2", "interleukin-2"), ("interferon", "interferon")):
        one = question_list(db.session, "lung", therapy, [], age=40)
        assert any(q.startswith(f"Has {name} been shown in proper trials") for q in one)


@pytest.mark.parametrize(
    ("cancer_type", "first"),
    [
        ("head_neck", "What are the standard treatments for my head and neck cancer"),
        ("cervix", "What are the standard treatments for cervical cancer at my stage"),
        ("lung", "Have the gene and marker tests on the tumour"),
    ],
)
def test_indias_commonest_cancers_get_their_own_short_lists(approved, cancer_type, first):
    questions = question_list(db.session, cancer_type, "interferon", [], age=60)
    own = questions[len(GENERAL) - 1 : -len(INTERFERON)]
    assert len(own) == 2 and own[0].startswith(first), own


def test_until_a_clinician_approves_patients_keep_the_wording_they_had(app):
    questions = question_list(db.session, "breast", "interleukin2", [], age=40)
    assert any(q.startswith("High-dose interleukin-2 needs a hospital stay") for q in questions)
    assert not any(q.startswith("If it were offered to me") for q in questions)
    assert not any("breast" in q or "long-term effects" in q for q in questions)
    assert not any("proper trials" in q for q in questions)
