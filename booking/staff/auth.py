"""Sign-in (password, then a second factor), sign-out and password change.

A right password does not sign anyone in: it opens a ten-minute "half signed-in" state in the
session that reaches only the second-factor pages. An account without a confirmed second
factor (a new one, an existing one after the upgrade, one an admin reset) sets it up there,
and sees its recovery codes once. Only then is the user signed in; a temporary password is
replaced next, before any other page opens.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.security import check_password_hash

from ..core.models import StaffUser
from ..core.timeutil import now_utc
from ..extensions import db, limiter
from ..staff_accounts import lockout
from ..staff_accounts import two_factor as second_factor
from ..staff_accounts.accounts import PasswordRejected, authenticate, set_password
from . import bp
from .access import PENDING, load_user, record, safe_next
from .forms import ActionForm, CodeForm, PasswordForm, SignInForm

FAILED = (
    "That email and password do not match an active account, or the account is locked "
    "for 15 minutes after too many attempts."
)
WRONG_CODE = (
    "That code is not right, or was used already. Wait for the next code in your app and "
    "try again, or use one of your recovery codes."
)
WRONG_FIRST_CODE = (
    "That code is not right. Type the 6-digit code your app shows now for the entry you just "
    "added (the one from the QR code on this page)."
)
PENDING_FOR = timedelta(minutes=10)


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
        result = authenticate(db.session, form.email.data, form.password.data, now, _client())
        db.session.commit()  # keep the failure
        if result.user is None:
            current_app.logger.info("staff sign-in refused")
            return render_template("staff/login.html", form=form, error=FAILED), 401
        # A fresh session: nothing from before it carries over.
        target = safe_next(request.args.get("next"))
        session.clear()
        session[PENDING] = {"user": result.user.get_id(), "at": now.timestamp(), "next": target}
        return redirect(url_for(".two_factor"))
    return render_template("staff/login.html", form=form, error=None), (
        401 if request.method == "POST" else 200
    )


def pending_user() -> StaffUser | None:
    """The account whose password was right in this session in the last ten minutes."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if now_utc().timestamp() - float(pending.get("at", 0)) > PENDING_FOR.total_seconds():
        session.pop(PENDING, None)
        return None
    return load_user(str(pending.get("user", "")))


def _start_again():
    session.pop(PENDING, None)
    flash("Please sign in again.")
    return redirect(url_for(".login"))


def _client() -> str:
    """The address failures are counted by (the proxy's client when one is trusted)."""
    return (request.remote_addr or "unknown")[:45]


def _refused(user: StaffUser, template: str, form: CodeForm, message: str, **context):
    """A wrong code: counted like a wrong password (lockout.py)."""
    now = now_utc()
    locked = lockout.record_failure(db.session, user, _client(), now)
    db.session.commit()
    if locked:
        session.pop(PENDING, None)
        return render_template("staff/login.html", form=SignInForm(), error=FAILED), 401
    form.code.errors.append(message)
    return render_template(template, form=form, **context), 401


def _finish(user: StaffUser, action: str = "signed_in") -> str:
    """Sign in for real; the page to go to next."""
    target = session.get(PENDING, {}).get("next") or url_for(".home")
    now = now_utc()
    session.clear()
    lockout.forget_failures(db.session, user, _client())
    login_user(user)
    session["seen"] = session["signed_in"] = now.timestamp()
    record(action, user_id=user.id)
    if action != "signed_in":
        record("signed_in", user_id=user.id)
    db.session.commit()
    if user.must_change_password:
        return url_for(".password")
    return safe_next(target)


@bp.route("/two-factor", methods=["GET", "POST"])
@limiter.limit(sign_in_limit, methods=["POST"])
def two_factor():
    if current_user.is_authenticated:
        return redirect(url_for(".home"))
    user = pending_user()
    if user is None:
        return _start_again()
    if user.totp_confirmed_at is None:
        return redirect(url_for(".two_factor_setup"))
    form = CodeForm()
    if not form.validate_on_submit():
        return render_template("staff/two_factor.html", form=form), (
            422 if request.method == "POST" else 200
        )
    now = now_utc()
    if lockout.refused(db.session, user, _client(), now):
        session.pop(PENDING, None)
        return render_template("staff/login.html", form=SignInForm(), error=FAILED), 401
    if second_factor.check_code(db.session, user, form.code.data, now):
        return redirect(_finish(user))
    if second_factor.use_recovery_code(db.session, user, form.code.data, now):
        left = second_factor.recovery_codes_left(db.session, user)
        target = _finish(user, "recovery_code_used")
        flash(
            f"You signed in with a recovery code; {left} left. If your phone is lost, ask an "
            "admin to reset your two-factor sign-in."
        )
        return redirect(target)
    return _refused(user, "staff/two_factor.html", form, WRONG_CODE)


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@limiter.limit(sign_in_limit, methods=["POST"])
def two_factor_setup():
    """Scan the QR code (or type the secret), confirm with a first code, see the recovery
    codes once."""
    if current_user.is_authenticated:
        return redirect(url_for(".home"))
    user = pending_user()
    if user is None:
        return _start_again()
    if user.totp_confirmed_at is not None:
        return redirect(url_for(".two_factor"))
    secret = second_factor.start_setup(user)
    db.session.commit()
    uri = second_factor.provisioning_uri(user, current_app.config["CLINIC_NAME"])
    context = {
        "qr": second_factor.qr_svg(uri),
        "secret": second_factor.grouped(secret),
        "account": user,
    }
    form = CodeForm()
    if not form.validate_on_submit():
        status = 422 if request.method == "POST" else 200
        return render_template("staff/two_factor_setup.html", form=form, **context), status
    codes = second_factor.confirm_setup(db.session, user, form.code.data, now_utc())
    if codes is None:
        return _refused(user, "staff/two_factor_setup.html", form, WRONG_FIRST_CODE, **context)
    target = _finish(user, "two_factor_set_up")
    # Shown in this response only: they are stored hashed.
    return render_template("staff/recovery_codes.html", codes=codes, target=target)


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
