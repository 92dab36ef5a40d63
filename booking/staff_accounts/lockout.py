"""Who may try to sign in: a client that keeps failing is blocked, and an account is locked
only against the clients that failed on it.

Counting failures on the account alone let anyone who knew a staff email keep its owner out,
fifteen minutes at a time, all day. Here a client (an address) that fails ``CLIENT_FAILURES``
times within ``WINDOW`` is refused for the rest of it, whichever accounts it tried (the sign-in
rate limit slows it before that). An account named in failures from ``LOCK_CLIENTS`` different
clients within ``WINDOW`` is locked: every client that has failed on it is refused for it, even
after a single failure, while its owner at a desk that has not failed signs in as usual (with
the password and a code, or a recovery code). The lock is written to the audit log for admins.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..core import audit
from ..core.audit import Actor
from ..core.models import SignInFailure, StaffUser
from ..extensions import Session

WINDOW = timedelta(minutes=15)
CLIENT_FAILURES = 5
LOCK_CLIENTS = 3


def _recent(now: datetime):
    return SignInFailure.at > now - WINDOW


def refused(session: Session, user: StaffUser | None, client: str, now: datetime) -> bool:
    """Whether this client may not try now: checked before the password or code."""
    by_client = session.scalar(
        sa.select(sa.func.count(SignInFailure.id)).where(
            SignInFailure.client == client, _recent(now)
        )
    )
    if (by_client or 0) >= CLIENT_FAILURES:
        return True
    if user is None or not is_locked(session, user, now):
        return False
    failed_here = session.scalar(
        sa.select(SignInFailure.id)
        .where(
            SignInFailure.staff_user_id == user.id,
            SignInFailure.client == client,
            _recent(now),
        )
        .limit(1)
    )
    return failed_here is not None


def is_locked(session: Session, user: StaffUser, now: datetime) -> bool:
    """Failures on this account came from ``LOCK_CLIENTS`` or more clients lately."""
    return _clients_failing(session, user, now) >= LOCK_CLIENTS


def _clients_failing(session: Session, user: StaffUser, now: datetime) -> int:
    return (
        session.scalar(
            sa.select(sa.func.count(sa.distinct(SignInFailure.client))).where(
                SignInFailure.staff_user_id == user.id, _recent(now)
            )
        )
        or 0
    )


def record_failure(session: Session, user: StaffUser | None, client: str, now: datetime) -> bool:
    """Count one wrong password or code (``user`` None for an unknown email); True when this
    client may not try again now. The caller commits.

    Each failure is its own row, so wrong attempts sent in parallel each count."""
    locked_before = user is not None and is_locked(session, user, now)
    session.add(SignInFailure(staff_user_id=user.id if user else None, client=client, at=now))
    session.flush()
    if user is not None and not locked_before and is_locked(session, user, now):
        audit.record(
            session,
            "account_locked",
            now,
            Actor.system(),
            detail=f"{user.email}: wrong passwords or codes from "
            f"{_clients_failing(session, user, now)} addresses",
        )
    return refused(session, user, client, now)


def forget_failures(session: Session, user: StaffUser, client: str) -> None:
    """Signed in: this client's earlier mistakes on this account no longer count."""
    session.execute(
        sa.delete(SignInFailure).where(
            SignInFailure.staff_user_id == user.id, SignInFailure.client == client
        )
    )


def clear_old_failures(session: Session, now: datetime) -> None:
    """The worker's sweep: failures older than the window no longer count for anything."""
    session.execute(sa.delete(SignInFailure).where(SignInFailure.at <= now - WINDOW))
    session.commit()
