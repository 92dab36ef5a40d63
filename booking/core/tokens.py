"""Manage-link tokens: random, shown once in an email, stored only as a SHA-256 hash.

A hash lookup is enough (no slow KDF): the token is 256 random bits, so there is nothing to
guess, and the hash means a copy of the database holds no working link.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

import sqlalchemy as sa

from ..extensions import Session
from .models import Appointment, ManageToken, WaitlistEntry, WaitlistLink

TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_manage_token(
    session: Session, appointment: Appointment, now: datetime, reader: str | None = None
) -> str:
    """A new token for one message to ``reader`` (the patient or the relative); the caller's
    transaction stores its hash."""
    token = secrets.token_urlsafe(32)
    session.add(
        ManageToken(
            appointment=appointment, token_hash=hash_token(token), created_at=now, reader=reader
        )
    )
    return token


def find_by_token(session: Session, token: str) -> Appointment | None:
    if not TOKEN_SHAPE.match(token or ""):
        return None
    return session.scalar(
        sa.select(Appointment)
        .join(ManageToken, ManageToken.appointment_id == Appointment.id)
        .where(ManageToken.token_hash == hash_token(token))
    )


def reader_of_token(session: Session, token: str) -> str | None:
    """Whose message carried this link (``statuses.Reader``), when that was kept."""
    if not TOKEN_SHAPE.match(token or ""):
        return None
    return session.scalar(
        sa.select(ManageToken.reader).where(ManageToken.token_hash == hash_token(token))
    )


def issue_waitlist_link(session: Session, entry: WaitlistEntry, now: datetime) -> str:
    """A new link to a waitlist entry (its hash kept): each message about the entry carries
    its own, to confirm it, see it and leave the list without signing in."""
    token = secrets.token_urlsafe(32)
    session.add(WaitlistLink(entry_id=entry.id, token_hash=hash_token(token), created_at=now))
    return token
