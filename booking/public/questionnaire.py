"""The health questionnaire's page, reached with the manage link like the manage page.

It is the one patient page that shows health answers, so it needs the same unguessable link
the manage page needs, and it can be changed only until the consult starts. Answers the form
refuses are shown again as typed, and an expired form keeps them.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from ..core.audit import Actor
from ..core.timeutil import now_utc
from ..core.tokens import reader_of_token
from ..extensions import csrf, db, limiter
from ..intake import choices
from ..intake.health_questionnaire import (
    QuestionnaireClosed,
    answers_of,
    can_edit,
    save,
    shows_crisis_line,
)
from ..intake.questionnaire_questions import QUESTIONNAIRE
from ..messages.readers import reader_of
from ..web.questionnaire_form import NEEDED, QuestionnaireForm
from . import bp
from .manage import _load, ask_the_clinic, manage_rate_limit

# The rule by which the page's script shows each question asked only after another answer.
SHOWN_WHEN = {question.name: question.show_when for question in QUESTIONNAIRE if question.show_when}


def _page(appointment, reader, token, form, status=200, notice=None):
    answers = form.answers()
    relative = form.filled_by.data == "relative"
    form.speak(relative, appointment.patient_name)
    return (
        render_template(
            "public/questionnaire.html",
            appointment=appointment,
            token=token,
            form=form,
            notice=notice,
            editable=can_edit(appointment, now_utc()),
            choices=choices,
            needed=NEEDED,
            show_when=SHOWN_WHEN,
            crisis_line=shows_crisis_line(answers),
            thoughts_in_the_past=answers.get("self_harm") == "past",
            relative=relative,
        ),
        status,
    )


@bp.route("/manage/<token>/questionnaire", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own token, so an expired one can keep the answers
@limiter.limit(manage_rate_limit)
def questionnaire(token):
    now = now_utc()
    appointment, gone = _load(token, now)
    if gone:
        return gone
    reader = reader_of(appointment, reader_of_token(db.session, token))
    if reader.discreet:
        return ask_the_clinic(appointment)
    if appointment.data_held_at is not None:  # until the desk confirms a contact change
        return ask_the_clinic(appointment, held=True)
    if request.method == "GET":
        answers = answers_of(appointment.questionnaire)
        # Until answered, the questions speak to whoever the link was sent to.
        answers.setdefault("filled_by", "patient" if reader.is_patient else "relative")
        form = QuestionnaireForm(formdata=None, data=answers)
        return _page(appointment, reader, token, form)

    form = QuestionnaireForm()
    if not can_edit(appointment, now):
        return _page(appointment, reader, token, form, status=409)
    finishing = request.form.get("action") == "send"
    valid = form.validate_on_submit()
    if valid and finishing:
        valid = form.check_finished()
    if not valid:
        notice = None
        if form.csrf_token.errors:
            notice = (
                "For your security this form timed out. Your answers are kept below: "
                "please press the button again."
            )
        return _page(appointment, reader, token, form, status=422, notice=notice)
    try:
        save(
            db.session,
            appointment,
            form.answers(),
            finishing,
            now,
            Actor.patient(request.remote_addr),
        )
    except QuestionnaireClosed:
        db.session.rollback()
        return _page(appointment, reader, token, form, status=409)
    db.session.commit()
    if shows_crisis_line(form.answers()):
        # The crisis line is on the page at once, above the form, as well as a call from staff.
        return _page(appointment, reader, token, form, notice=_saved_message(finishing))
    flash(_saved_message(finishing))
    return redirect(url_for(".questionnaire", token=token))


def _saved_message(finished: bool) -> str:
    if finished:
        return (
            "Thank you: the questionnaire is sent to the consultant. You can still change it "
            "here until the consult starts."
        )
    return "Saved. You can finish it later with the same link, until the consult starts."
