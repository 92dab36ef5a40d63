"""Who may see the staff pages: signed in, not idle, and (for some pages) an admin.

Every ``/staff/`` URL passes through :func:`require_sign_in`, so a new page is protected the
moment it is added; only the sign-in page itself is open.
"""

from __future__ import annotations

from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from ..core import audit
from ..core.audit import Actor
from ..core.models import StaffUser
from ..core.timeutil import now_utc
from ..extensions import db, login_manager
from . import bp

IDLE_LIMIT = timedelta(minutes=30)
# Open to anyone; the second-factor pages let in only a session whose password was right.
OPEN_ENDPOINTS = {"staff.login", "staff.two_factor", "staff.two_factor_setup"}
# Set in the session when the password was right and the second factor is still to come.
PENDING = "pending_sign_in"
# What a signed-in user with a temporary password can reach before replacing it.
PASSWORD_CHANGE_ENDPOINTS = {"staff.password", "staff.logout"}


@login_manager.user_loader
def load_user(user_id: str) -> StaffUser | None:
    """Load the user named by the cookie, only if its session version is still current."""
    user_part, _, version = user_id.partition(":")
    if not user_part.isdigit() or not version.isdigit():
        return None
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.id == int(user_part)))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


@bp.before_request
def require_sign_in():
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        if session.get(PENDING):  # the password was right: the code is next
            return redirect(url_for("staff.two_factor"))
        return redirect(url_for("staff.login", next=request.full_path.rstrip("?")))
    now = now_utc().timestamp()
    last_seen = session.get("seen", 0)
    signed_in = session.get("signed_in", 0)
    message = None
    if now - signed_in > current_app.config["STAFF_SESSION_MAX"].total_seconds():
        message = "You were signed out: a session lasts at most one working day. Please sign in."
    elif now - last_seen > IDLE_LIMIT.total_seconds():
        message = "You were signed out after 30 minutes without activity."
    if message:
        logout_user()
        session.clear()
        flash(message)
        return redirect(url_for("staff.login"))
    session["seen"] = now
    if current_user.must_change_password and request.endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        flash("Choose your own password first: the one you were given was temporary.")
        return redirect(url_for("staff.password"))
    return None


def admin_required(view):
    """Admins only; signed-in staff get 403."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    wrapped.admin_only = True  # lets the access tests find every admin page
    return wrapped


def client_address() -> str | None:
    return request.remote_addr


def record(action: str, appointment=None, detail: str | None = None, user_id: int | None = None):
    """An audit event by the signed-in staff user (or ``user_id``), from this request's address.
    ``detail`` names what was acted on (an account, a question); never health data."""
    return audit.record(
        db.session,
        action,
        now_utc(),
        Actor.staff(user_id or current_user.id, client_address()),
        appointment=appointment,
        detail=detail,
    )


def staff_actor() -> Actor:
    """The signed-in member of staff, from this request's address."""
    return Actor.staff(current_user.id, client_address())


def safe_next(target: str | None) -> str:
    """Only a path inside the staff pages: never another site, and nothing that could break
    out of the Location header (line breaks) or be read as a host (backslashes)."""
    if (
        target
        and target.startswith("/staff/")
        and target.isprintable()
        and "\\" not in target
        and not target.startswith("//")
    ):
        return target
    return url_for("staff.home")
