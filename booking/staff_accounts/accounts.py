"""Staff accounts: sign-in (with lockout.py), password rules, and the session version.

The session cookie carries the user's id *and* their session version; bumping the version in
the database (sign-out, password change, reset, deactivation) ends every session of that user
on every web worker at once, without a server-side session store.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..core.models import StaffUser
from ..core.statuses import StaffRole
from ..extensions import Session
from . import lockout

MIN_PASSWORD_LENGTH = 12
# Checked against when nobody has that email, so both failures take the same time.
_DUMMY_HASH = generate_password_hash(secrets.token_hex(16))
_COMMON = frozenset(
    line.strip().lower()
    for line in (Path(__file__).parent / "common_passwords.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)


def _hash(password: str) -> str:
    # scrypt in production; the tests set a cheap method, as hashing is most of a sign-in's time.
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


class PasswordRejected(ValueError):
    """The new password breaks a rule; the message says which, for the form."""


def _too_common(lowered: str) -> bool:
    """On the list, or a listed word padded with digits and symbols ("dragon123456!"), or
    made of three characters or fewer."""
    core = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", lowered)
    return lowered in _COMMON or core in _COMMON or len(set(lowered)) < 4


def check_password_rules(password: str, user_email: str = "", user_name: str = "") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRejected(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    lowered = password.lower()
    if _too_common(lowered):
        raise PasswordRejected("That password is too common; choose another.")
    if re.fullmatch(r"(.{1,6}?)\1+", lowered):
        raise PasswordRejected("That password repeats a short pattern; choose another.")
    for personal in (user_email.split("@")[0], user_name):
        if personal and len(personal) >= 4 and personal.lower() in lowered:
            raise PasswordRejected("Do not use your name or email in the password.")


def set_password(user: StaffUser, password: str, *, checked: bool = True) -> None:
    """Set a new password and end every existing session of this user. A generated
    temporary password skips the rules meant for chosen ones (``checked=False``)."""
    if checked:
        check_password_rules(password, user.email, user.name)
    user.password_hash = _hash(password)
    user.session_version += 1
    # A password someone chose ends the temporary one; a generated one must be replaced.
    user.must_change_password = not checked


def reset_password(user: StaffUser) -> str:
    """A new temporary password for ``user``, returned once for the admin to pass on; it
    must be changed at the next sign-in."""
    password = temporary_password()
    set_password(user, password, checked=False)
    return password


class LastAdmin(ValueError):
    """The change would leave the clinic without an active admin."""


def change_account(
    session: Session,
    user: StaffUser,
    *,
    role: str,
    is_consultant: bool,
    active: bool,
    is_clinician: bool | None = None,
) -> None:
    """Change a colleague's role, consultant or clinician flag, or active state. The caller
    commits.

    At least one active admin must remain; deactivating someone ends their sessions. Two
    admins demoting each other at once must not both succeed: on PostgreSQL the admins' rows
    are locked first, so the second waits and then counts what the first did; on SQLite the
    second write waits for the first to commit, and the count after the change sees it."""
    removes_admin = user.role == StaffRole.ADMIN and (role != StaffRole.ADMIN or not active)
    if removes_admin:
        session.execute(sa.select(StaffUser.id).where(_is_active_admin()).with_for_update()).all()
        if _admins_left(session, excluding=user) == 0:
            raise LastAdmin("There must be at least one active admin.")
    if user.active and not active:
        user.session_version += 1  # signs them out everywhere
    user.role = role
    user.is_consultant = is_consultant
    if is_clinician is not None:
        user.is_clinician = is_clinician
    user.active = active
    if removes_admin:
        session.flush()
        left = session.scalar(sa.select(sa.func.count(StaffUser.id)).where(_is_active_admin()))
        if not left:
            raise LastAdmin("There must be at least one active admin.")


def _is_active_admin():
    return sa.and_(StaffUser.role == StaffRole.ADMIN, StaffUser.active.is_(True))


def _admins_left(session: Session, excluding: StaffUser) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count(StaffUser.id)).where(
                _is_active_admin(), StaffUser.id != excluding.id
            )
        )
        or 0
    )


@dataclass
class SignIn:
    user: StaffUser | None
    locked: bool = False  # this client may not try again for now


def authenticate(session: Session, email: str, password: str, now: datetime, client: str) -> SignIn:
    """Check a sign-in from ``client``; count each failure (lockout.py). The caller commits.

    The caller shows one message for every failure, so an unknown email, a wrong password
    and a refused client cannot be told apart from outside.
    """
    user = session.scalar(sa.select(StaffUser).where(StaffUser.email == email.strip().lower()))
    known = user if user is not None and user.active else None
    if lockout.refused(session, known, client, now):
        check_password_hash(_DUMMY_HASH, password)
        return SignIn(None, locked=True)
    if known is None:
        check_password_hash(_DUMMY_HASH, password)
        return SignIn(None, locked=lockout.record_failure(session, None, client, now))
    if not check_password_hash(known.password_hash, password):
        return SignIn(None, locked=lockout.record_failure(session, known, client, now))
    return SignIn(known)


def new_staff_user(
    email: str, name: str, role: str, is_consultant: bool, password: str
) -> StaffUser:
    user = StaffUser(
        email=email.strip().lower(),
        name=name,
        role=role,
        is_consultant=is_consultant,
        password_hash="",
        session_version=1,
        active=True,
    )
    check_password_rules(password, user.email, name)
    user.password_hash = _hash(password)
    return user


def temporary_password() -> str:
    """A password for a reset, shown once to the admin, who passes it on."""
    return secrets.token_urlsafe(12)
