"""Admin only: staff accounts and the audit log."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import flash, redirect, render_template, request, url_for

from ..core.models import Appointment, AuditEvent, StaffUser
from ..extensions import db
from ..staff_accounts import two_factor
from ..staff_accounts.accounts import (
    LastAdmin,
    change_account,
    new_staff_user,
    reset_password,
    temporary_password,
)
from ..web.paging import page_number
from . import bp
from .access import admin_required, record
from .forms import AccountEditForm, AccountForm, ActionForm

AUDIT_PAGE = 100


def _record(action: str, user: StaffUser) -> None:
    record(action, detail=f"account {user.id} ({user.email})")


def _accounts_page(status=200, create_form=None, new_password=None, new_for=None):
    users = db.session.scalars(sa.select(StaffUser).order_by(StaffUser.name)).all()
    edit_forms = {u.id: AccountEditForm(formdata=None, obj=u) for u in users}
    return (
        render_template(
            "staff/accounts.html",
            users=users,
            edit_forms=edit_forms,
            create_form=create_form or AccountForm(formdata=None),
            action_form=ActionForm(),
            new_password=new_password,
            new_for=new_for,
        ),
        status,
    )


@bp.get("/accounts")
@admin_required
def accounts():
    return _accounts_page()


@bp.post("/accounts")
@admin_required
def account_create():
    form = AccountForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        if db.session.scalar(sa.select(StaffUser.id).where(StaffUser.email == email)):
            form.email.errors.append("That email already has an account.")
            return _accounts_page(422, create_form=form)
        password = temporary_password()
        user = new_staff_user(
            email, form.name.data, form.role.data, form.is_consultant.data, password
        )
        user.must_change_password = True
        user.is_clinician = form.is_clinician.data
        db.session.add(user)
        db.session.flush()
        _record("account_created", user)
        db.session.commit()
        # Shown once, in this response only; the new colleague changes it after signing in.
        return _accounts_page(new_password=password, new_for=user.email)
    return _accounts_page(422, create_form=form)


@bp.post("/accounts/<int:user_id>")
@admin_required
def account_edit(user_id):
    user = db.get_or_404(StaffUser, user_id)
    form = AccountEditForm()
    if form.validate_on_submit():
        try:
            change_account(
                db.session,
                user,
                role=form.role.data,
                is_consultant=form.is_consultant.data,
                is_clinician=form.is_clinician.data,
                active=form.active.data,
            )
        except LastAdmin as refusal:
            db.session.rollback()
            flash(str(refusal))
            return redirect(url_for(".accounts"))
        _record("account_changed", user)
        db.session.commit()
        flash(f"Saved {user.email}.")
    return redirect(url_for(".accounts"))


@bp.post("/accounts/<int:user_id>/reset-password")
@admin_required
def account_reset_password(user_id):
    user = db.get_or_404(StaffUser, user_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for(".accounts"))
    password = reset_password(user)
    _record("password_reset", user)
    db.session.commit()
    return _accounts_page(new_password=password, new_for=user.email)


@bp.post("/accounts/<int:user_id>/reset-two-factor")
@admin_required
def account_reset_two_factor(user_id):
    """For a colleague's lost phone: they set two-factor up again at their next sign-in."""
    user = db.get_or_404(StaffUser, user_id)
    if ActionForm().validate_on_submit():
        two_factor.reset(db.session, user)
        _record("two_factor_reset", user)
        db.session.commit()
        flash(f"Two-factor sign-in reset for {user.email}: they set it up at their next sign-in.")
    return redirect(url_for(".accounts"))


@bp.get("/audit")
@admin_required
def audit_log():
    reference = (request.args.get("reference") or "").strip().upper()[:12] or None
    user_id = request.args.get("user_id", "")
    action = (request.args.get("action") or "").strip()[:40] or None
    page = page_number(request.args)
    query = sa.select(AuditEvent)
    if reference:
        query = query.join(Appointment, Appointment.id == AuditEvent.appointment_id).where(
            Appointment.reference == reference
        )
    if user_id.isdigit():
        query = query.where(AuditEvent.staff_user_id == int(user_id))
    if action:
        query = query.where(AuditEvent.action == action)
    events = db.session.scalars(
        query.options(so.joinedload(AuditEvent.staff_user), so.joinedload(AuditEvent.appointment))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(AUDIT_PAGE + 1)
        .offset((page - 1) * AUDIT_PAGE)
    ).all()
    users = db.session.scalars(sa.select(StaffUser).order_by(StaffUser.name)).all()
    actions = db.session.scalars(
        sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    )
    return render_template(
        "staff/audit.html",
        events=events[:AUDIT_PAGE],
        has_more=len(events) > AUDIT_PAGE,
        page=page,
        users=users,
        actions=list(actions),
        reference=reference,
        user_id=user_id,
        action=action,
    )
