"""The pre-visit question list a patient receives with the confirmation and every reminder.

A question can be limited to a cancer type (a family such as "leukaemia" reaches its subtypes
too), to the therapy the patient asks about, and to a current treatment; a blank limit means
everyone. A patient not sure which therapy gets the questions for both.

Order: the clinic's general questions, then those for the patient's cancer type, then those for
the therapy they ask about, then those for their current treatments; the patient's own
questions are shown after these by the templates. Patients get only wording a clinician
approved (``clinical_review.py``): an edit waits as a draft.
"""

from datetime import date
from typing import cast

import sqlalchemy as sa

from ..core.models import Intake, PreVisitQuestion
from ..extensions import Session
from .choices import CANCER_FAMILY


def question_list(
    session: Session,
    cancer_type: str,
    therapy: str | None,
    treatments: list[str],
    age: int | None = None,
) -> list[str]:
    """The active questions that apply to this patient, in the order they should be read.

    Bookings made before the form asked about the therapy (``therapy`` empty) are treated as
    "not sure": they get the questions for both. A question for younger patients reaches a
    patient whose ``age`` is not known: it presumes nothing either way."""
    cancer_types = {cancer_type, CANCER_FAMILY.get(cancer_type, cancer_type)}
    therapy_condition = (
        sa.true()
        if therapy in (None, "not_sure")
        else sa.or_(PreVisitQuestion.therapy.is_(None), PreVisitQuestion.therapy == therapy)
    )
    rows = session.scalars(
        sa.select(PreVisitQuestion)
        .where(
            PreVisitQuestion.active.is_(True),
            PreVisitQuestion.approved_text.is_not(None),  # only wording a clinician approved
            sa.or_(
                PreVisitQuestion.cancer_type.is_(None),
                PreVisitQuestion.cancer_type.in_(cancer_types),
            ),
            therapy_condition,
            sa.or_(
                PreVisitQuestion.treatment.is_(None),
                PreVisitQuestion.treatment.in_(treatments),
            ),
            sa.true()
            if age is None
            else sa.or_(
                PreVisitQuestion.younger_than.is_(None), PreVisitQuestion.younger_than > age
            ),
        )
        .order_by(PreVisitQuestion.position, PreVisitQuestion.id)
    ).all()

    def group(question: PreVisitQuestion) -> int:
        if question.treatment:
            return 3
        if question.therapy:
            return 2
        return 1 if question.cancer_type else 0

    return [cast(str, question.approved_text) for question in sorted(rows, key=group)]


def questions_for(session: Session, intake: Intake, consult_day: date) -> list[str]:
    """The question list for a stored booking's answers, with the patient's age on the day
    of the consult."""
    return question_list(
        session,
        intake.cancer_type,
        intake.therapy,
        intake.treatment_list,
        intake.age_on(consult_day),
    )


def move(session: Session, question: PreVisitQuestion, direction: str) -> bool:
    """Swap a question with its neighbour above (``"up"``) or below (``"down"``) and number
    the list again in steps of 10. False when it is already first or last. The caller commits."""
    ordered = list(
        session.scalars(
            sa.select(PreVisitQuestion).order_by(PreVisitQuestion.position, PreVisitQuestion.id)
        )
    )
    index = ordered.index(question)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(ordered):
        return False
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered):
        item.position = (position + 1) * 10
    return True
