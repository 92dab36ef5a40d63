"""The pre-visit question list: add, edit, reorder, deactivate, and preview as a patient."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, url_for

from ..core.models import Appointment, Intake, PreVisitQuestion
from ..core.timeutil import now_utc
from ..extensions import db
from ..intake import choices
from ..intake.birth_dates import OLDEST_AGE
from ..intake.previsit_questions import move, questions_for
from ..messages.notifications import reminder_email
from . import bp
from .access import record
from .forms import MoveQuestionForm, QuestionForm


def _record(action: str, question_id: int) -> None:
    record(action, detail=f"question {question_id}")


def _preview(cancer_type: str, therapy: str, treatment: str, age: int | None) -> str:
    """The reminder email text a patient with these answers would get now (not stored)."""
    now = now_utc()
    sample = Appointment(
        reference="CT-SAMPLE",
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1),
        consult_mode="phone",
        patient_name="Sample Patient",
        patient_email="patient@example.com",
        patient_phone="+919876543210",
        patient_timezone=current_app.config["CLINIC_TIMEZONE"],
        booked_by="self",
        urgent=False,
        version=0,
    )
    born = None if age is None else f"{sample.starts_at.year - age:04d}"  # a year: "about"
    sample.intake = Intake(
        cancer_type=cancer_type, therapy=therapy, treatments=treatment, birth_date=born
    )
    questions = questions_for(db.session, sample.intake, sample.starts_at.date())
    # The sample objects are never added to the session, so nothing of them is saved.
    email = reminder_email(
        sample, questions, "(The patient's own questions appear here.)", "sample-token", now
    )
    return email.text


def _filters() -> dict[str, str]:
    """Which questions to list: those for one cancer type, therapy or treatment ("everyone"
    for the general ones); kept valid whatever the link says."""
    wanted = {}
    for name, answers in (
        ("for_cancer_type", choices.CANCER_TYPES),
        ("for_therapy", choices.THERAPIES),
        ("for_treatment", choices.TREATMENTS),
    ):
        value = request.args.get(name, "")
        if value in dict(answers) or value == "everyone":
            wanted[name] = value
    return wanted


def _listed(wanted: dict[str, str]) -> list[PreVisitQuestion]:
    query = sa.select(PreVisitQuestion).order_by(PreVisitQuestion.position, PreVisitQuestion.id)
    for name, column in (
        ("for_cancer_type", PreVisitQuestion.cancer_type),
        ("for_therapy", PreVisitQuestion.therapy),
        ("for_treatment", PreVisitQuestion.treatment),
    ):
        if name in wanted:
            value = wanted[name]
            query = query.where(column.is_(None) if value == "everyone" else column == value)
    return list(db.session.scalars(query))


def _page(status=200, add_form=None):
    wanted = _filters()
    cancer_type = request.args.get("preview_cancer_type", "melanoma")
    if cancer_type not in dict(choices.CANCER_TYPES):
        cancer_type = "melanoma"
    therapy = request.args.get("preview_therapy", "interleukin2")
    if therapy not in dict(choices.THERAPIES):
        therapy = "interleukin2"
    treatment = request.args.get("preview_treatment", "")
    if treatment not in dict(choices.TREATMENTS):
        treatment = ""
    age = request.args.get("preview_age", "", type=str).strip()
    preview_age = int(age) if age.isdigit() and int(age) <= OLDEST_AGE else None
    return (
        render_template(
            "staff/questions.html",
            questions=_listed(wanted),
            wanted=wanted,
            total=db.session.scalar(sa.select(sa.func.count(PreVisitQuestion.id))),
            add_form=add_form or QuestionForm(formdata=None),
            move_form=MoveQuestionForm(),
            preview=_preview(cancer_type, therapy, treatment, preview_age),
            preview_age=preview_age,
            preview_cancer_type=cancer_type,
            preview_therapy=therapy,
            preview_treatment=treatment,
            choices=choices,
        ),
        status,
    )


def _edit_page(question: PreVisitQuestion, form: QuestionForm | None = None, status=200):
    form = form or QuestionForm(
        formdata=None,
        obj=question,
        cancer_type=question.cancer_type or "",
        therapy=question.therapy or "",
        treatment=question.treatment or "",
    )
    return render_template("staff/question_edit.html", question=question, form=form), status


@bp.get("/questions")
def questions():
    return _page()


def _apply(question: PreVisitQuestion, form: QuestionForm) -> None:
    question.text = form.text.data
    question.younger_than = form.younger_than.data
    question.cancer_type = form.cancer_type.data or None
    question.therapy = form.therapy.data or None
    question.treatment = form.treatment.data or None
    question.active = form.active.data
    if form.position.data is not None:
        question.position = form.position.data


@bp.post("/questions")
def question_add():
    form = QuestionForm()
    if form.validate_on_submit():
        last = db.session.scalar(sa.select(sa.func.max(PreVisitQuestion.position))) or 0
        question = PreVisitQuestion(position=last + 10)
        _apply(question, form)
        db.session.add(question)
        db.session.flush()
        _record("question_added", question.id)
        db.session.commit()
        flash("Question added as a draft: patients get it once a clinician approves it.")
        return redirect(url_for(".questions"))
    return _page(422, add_form=form)


@bp.get("/questions/<int:question_id>")
def question_edit_page(question_id):
    """One question at a time: its text, whom it is for, and whether it is in use."""
    return _edit_page(db.get_or_404(PreVisitQuestion, question_id))


@bp.post("/questions/<int:question_id>")
def question_edit(question_id):
    question = db.get_or_404(PreVisitQuestion, question_id)
    form = QuestionForm()
    if form.validate_on_submit():
        _apply(question, form)
        _record("question_changed", question.id)
        db.session.commit()
        if question.has_draft:
            flash(
                "Saved as a draft: patients keep the approved wording until a clinician "
                "approves it."
            )
        else:
            flash("Question saved.")
        return redirect(url_for(".questions", _anchor=f"q{question.id}"))
    return _edit_page(question, form, 422)


@bp.post("/questions/<int:question_id>/move")
def question_move(question_id):
    """Swap places with the neighbour above or below."""
    form = MoveQuestionForm()
    question = db.get_or_404(PreVisitQuestion, question_id)
    if form.validate_on_submit() and move(db.session, question, form.direction.data):
        _record("question_moved", question.id)
        db.session.commit()
    return redirect(url_for(".questions"))
