"""Sign-in, sign-out and password change."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from ..accounts import PasswordRejected, authenticate, set_password
from ..extensions import db, limiter
from ..timeutil import now_utc
from . import bp
from .access import record, safe_next
from .forms import ActionForm, PasswordForm, SignInForm

FAILED = (
    "That email and password do not match an active account, or the account is locked "
    "for 15 minutes after too many attempts."
)


def sign_in_limit() -> str:
    return current_app.config["STAFF_SIGN_IN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(sign_in_limit, methods=["POST"])
def login():
    form = SignInForm()
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(url_for(".home"))
    if form.validate_on_submit():
        now = now_utc()
        result = authenticate(db.session, form.email.data, form.password.data, now)
        if result.user is None:
            db.session.commit()  # keep the failure count
            current_app.logger.info("staff sign-in refused")
            return render_template("staff/login.html", form=form, error=FAILED), 401
        # A fresh session at sign-in: nothing from before it carries over.
        target = safe_next(request.args.get("next"))
        session.clear()
        login_user(result.user)
        session["seen"] = session["signed_in"] = now.timestamp()
        record("signed_in", user_id=result.user.id)
        db.session.commit()
        return redirect(target)
    return render_template("staff/login.html", form=form, error=None), (
        401 if request.method == "POST" else 200
    )


@bp.post("/logout")
def logout():
    """End this session and every other session of this user."""
    if ActionForm().validate_on_submit():
        current_user.session_version += 1
        record("signed_out")
        db.session.commit()
        logout_user()
        session.clear()
    return redirect(url_for(".login"))


@bp.route("/password", methods=["GET", "POST"])
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not check_password_hash(user.password_hash, form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            try:
                set_password(user, form.new.data)
            except PasswordRejected as error:
                form.new.errors.append(str(error))
            else:
                record("password_changed")
                db.session.commit()
                login_user(user)  # this session goes on with the new version; others end
                flash("Password changed. Other sessions of yours have been signed out.")
                return redirect(url_for(".home"))
    return render_template("staff/password.html", form=form)
