"""The answers a family has given so far on the details steps, kept on the server while their
browser holds a time.

A phone loses a page easily (Back, a reload, a call coming in, a change of time), and the
answers are health data, which the session cookie (signed, not secret) must never carry. So
they are kept here, encrypted, under the hash that names the browser's hold, for as long as
that hold lasts (a change of time renews it). Booking deletes the draft; the worker deletes
drafts whose hold has run out.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlalchemy as sa

from ..core.models import BookingDraft
from ..extensions import Session

# The form as it was sent: each field's name and its values (a checkbox group has several).
Answers = dict[str, list[str]]


def load_draft(session: Session, holder: str | None, now: datetime) -> Answers | None:
    """The answers kept for this holder, or None when there are none (or they expired)."""
    if not holder:
        return None
    draft = session.scalar(sa.select(BookingDraft).where(BookingDraft.holder_hash == holder))
    if draft is None or draft.expires_at <= now:
        return None
    return json.loads(draft.answers)


def save_draft(
    session: Session, holder: str, answers: Answers, now: datetime, expires_at: datetime
) -> None:
    """Keep ``answers`` (all of them, replacing what was kept) until ``expires_at``. The
    caller commits."""
    draft = session.scalar(sa.select(BookingDraft).where(BookingDraft.holder_hash == holder))
    if draft is None:
        draft = BookingDraft(holder_hash=holder)
        session.add(draft)
    draft.answers = json.dumps(answers, ensure_ascii=False, sort_keys=True)
    draft.updated_at = now
    draft.expires_at = expires_at


def drop_draft(session: Session, holder: str | None) -> None:
    """The booking is made (or the family started again): nothing more to keep. The caller
    commits."""
    if holder:
        session.execute(sa.delete(BookingDraft).where(BookingDraft.holder_hash == holder))


def clear_expired_drafts(session: Session, now: datetime) -> None:
    """The worker's sweep, with the expired holds: answers never outlive their hold."""
    session.execute(sa.delete(BookingDraft).where(BookingDraft.expires_at <= now))
    session.commit()
