"""The clinical review page: what still waits for a clinician's sign-off, and the approvals.

Everyone on staff sees the list; only an account marked as a clinician can approve."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from ..core.models import PreVisitQuestion, StaffUser
from ..core.timeutil import now_utc
from ..extensions import db
from ..intake.clinical_review import BY_KEY, NotAClinician, approve_fixed, approve_question, waiting
from . import bp
from .access import record
from .forms import ActionForm


@bp.get("/clinical-review")
def clinical_review():
    return render_template(
        "staff/clinical_review.html", waiting=waiting(db.session), form=ActionForm()
    )


def _approve(approve, detail: str):
    if not ActionForm().validate_on_submit():
        flash("The page had expired. Please press the button again.")
        return redirect(url_for(".clinical_review"))
    user = db.session.get_one(StaffUser, current_user.id)
    try:
        approve(user)
    except NotAClinician as refusal:
        db.session.rollback()
        flash(str(refusal))
        return redirect(url_for(".clinical_review")), 403
    record("clinical_text_approved", detail=detail)
    db.session.commit()
    flash("Approved: patients get these words from now on.")
    return redirect(url_for(".clinical_review"))


@bp.post("/clinical-review/questions/<int:question_id>")
def clinical_review_question(question_id):
    question = db.get_or_404(PreVisitQuestion, question_id)
    return _approve(
        lambda user: approve_question(db.session, question, user, now_utc()),
        f"question {question.id}",
    )


@bp.post("/clinical-review/fixed/<key>")
def clinical_review_fixed(key):
    if key not in BY_KEY:
        return redirect(url_for(".clinical_review"))
    return _approve(lambda user: approve_fixed(db.session, key, user, now_utc()), key)
