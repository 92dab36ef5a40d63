"""Two-factor sign-in for staff: a TOTP code (RFC 6238) from an authenticator app, or one of
ten single-use recovery codes for a lost phone.

Staff read every patient's diagnosis, so a password alone is not enough. The secret is stored
encrypted; it is confirmed by a first code before it counts. A code is accepted once: the last
accepted time step is stored and only a later one passes, with one step of clock drift either
way. Recovery codes carry 64 random bits and are stored as SHA-256 hashes (a slow hash would
buy nothing at that length), each marked used in one conditional UPDATE so two requests cannot
both spend it. Wrong codes count toward the same lock as wrong passwords (accounts.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import cast

import pyotp
import segno
import sqlalchemy as sa

from ..core.models import RecoveryCode, StaffUser
from ..extensions import Session

STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODES = 10


def start_setup(user: StaffUser) -> str:
    """The secret being set up (a new one unless set-up is already under way). The caller
    commits, so reloading the page shows the same QR code."""
    if user.totp_secret is None or user.totp_confirmed_at is not None:
        user.totp_secret = pyotp.random_base32()
        user.totp_confirmed_at = None
        user.totp_last_step = None
    return user.totp_secret


def provisioning_uri(user: StaffUser, issuer: str) -> str:
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG, drawn on the server (no script, no outside service)."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff")


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def check_code(session: Session, user: StaffUser, code: str, now: datetime) -> bool:
    """True for a right code not accepted before; it cannot be accepted again."""
    digits = re.sub(r"\s", "", code or "")
    if not user.totp_secret or not re.fullmatch(r"\d{6}", digits):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = int(now.timestamp()) // STEP_SECONDS
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            accepted = session.execute(
                sa.update(StaffUser)
                .where(
                    StaffUser.id == user.id,
                    sa.or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step),
                )
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            return bool(cast(sa.CursorResult, accepted).rowcount)
    return False


def _hash(code: str) -> str:
    return hashlib.sha256(re.sub(r"[^0-9a-f]", "", code.lower()).encode()).hexdigest()


def new_recovery_codes(session: Session, user: StaffUser) -> list[str]:
    """Ten fresh codes (any older ones stop working), returned once to be shown once."""
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.staff_user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = secrets.token_hex(8)
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
        session.add(RecoveryCode(staff_user_id=user.id, code_hash=_hash(raw)))
    return codes


def use_recovery_code(session: Session, user: StaffUser, code: str, now: datetime) -> bool:
    """True, once, for one of this user's unused recovery codes."""
    if len(re.sub(r"[^0-9a-f]", "", (code or "").lower())) != 16:
        return False
    used = session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.staff_user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
    )
    return bool(cast(sa.CursorResult, used).rowcount)


def recovery_codes_left(session: Session, user: StaffUser) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count(RecoveryCode.id)).where(
                RecoveryCode.staff_user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def confirm_setup(session: Session, user: StaffUser, code: str, now: datetime) -> list[str] | None:
    """The first code from the app confirms the secret; returns the recovery codes, or None
    when the code is wrong. The caller commits."""
    if user.totp_confirmed_at is not None or not check_code(session, user, code, now):
        return None
    user.totp_confirmed_at = now
    return new_recovery_codes(session, user)


def reset(session: Session, user: StaffUser) -> None:
    """An admin's reset for a lost phone: the account sets two-factor up again at its next
    sign-in, and every session it has ends. The caller commits."""
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.session_version += 1
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.staff_user_id == user.id))
