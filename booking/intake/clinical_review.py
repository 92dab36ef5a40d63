"""Clinical text a clinician has approved, and what still waits for their sign-off.

Two kinds of clinical text reach patients:

- **Pre-visit questions**, which staff edit on the questions page. An edit, or a new question,
  is a draft: patients keep getting the approved wording (or nothing, for a new question)
  until a clinician approves it. Wording in use from before this step is listed as still to
  be signed.
- **Fixed text** in the code: the red-flag checklist and its guidance, the health
  questionnaire, and the call-back time. A sign-off records the hash of the content it
  approved, so a change to the words puts the item back on the list.

``flask --app booking clinical-review`` prints the list; the staff "Clinical review" page
shows it and lets a clinician approve each item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from ..core.models import ClinicalSignOff, PreVisitQuestion, StaffUser
from ..extensions import Session
from . import choices, questionnaire_questions

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


class NotAClinician(Exception):
    """Only an account marked as a clinician approves clinical text."""


def _red_flags() -> str:
    groups = (
        choices.RED_FLAGS_EMERGENCY,
        choices.RED_FLAGS_CANCER_TEAM,
        choices.RED_FLAGS_SELF_HARM,
    )
    words = repr(groups)
    for name in ("public/_red_flags.html", "public/_help_now.html", "email/_urgent.txt"):
        words += (TEMPLATES / name).read_text(encoding="utf-8")
    return words + (TEMPLATES / "email/_get_help.txt").read_text(encoding="utf-8")


def _questionnaire() -> str:
    """Its words: each question's label, hint and answers (not the rules, which are code)."""
    words = repr(
        [
            (q.name, q.label, q.voices, q.hint, q.choices)
            for q in questionnaire_questions.QUESTIONNAIRE
        ]
    )
    return words + (TEMPLATES / "public/questionnaire.html").read_text(encoding="utf-8")


def _call_back_time() -> str:
    return f"{current_app.config['URGENT_ACK_MINUTES']} minutes"


@dataclass(frozen=True)
class FixedItem:
    key: str
    title: str
    content: Callable[[], str]  # the words being approved


FIXED = (
    FixedItem(
        "red_flags",
        "The red-flag checklist: its groups, each symptom's wording and group, the 38 °C "
        "threshold and the guidance sentences",
        _red_flags,
    ),
    FixedItem(
        "questionnaire", "The health questionnaire's questions and follow-ups", _questionnaire
    ),
    FixedItem(
        "call_back_time", "The time within which an urgent case is called back", _call_back_time
    ),
)
BY_KEY = {item.key: item for item in FIXED}


def content_hash(item: FixedItem) -> str:
    return hashlib.sha256(item.content().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Waiting:
    """One thing a clinician still has to sign: a fixed item, or a pre-visit question."""

    title: str
    why: str
    key: str | None = None  # a fixed item's key
    question_id: int | None = None


def waiting(session: Session) -> list[Waiting]:
    """Everything not yet signed by a clinician, fixed text first."""
    signed = set(
        session.execute(sa.select(ClinicalSignOff.item, ClinicalSignOff.content_hash)).all()
    )
    items = [
        Waiting(item.title, "not signed in its current words", key=item.key)
        for item in FIXED
        if (item.key, content_hash(item)) not in signed
    ]
    questions = session.scalars(
        sa.select(PreVisitQuestion)
        .where(
            sa.or_(
                PreVisitQuestion.approved_text.is_(None),
                PreVisitQuestion.approved_text != PreVisitQuestion.text,
                PreVisitQuestion.approved_by_id.is_(None),
            )
        )
        .order_by(PreVisitQuestion.position, PreVisitQuestion.id)
    )
    for question in questions:
        if question.approved_text is None:
            why = "new: patients do not get it until it is approved"
        elif question.has_draft:
            why = "changed: patients get the approved wording until the change is approved"
        else:
            why = "in use from before the review step, not yet signed"
        title = f"Pre-visit question: {question.text}"
        items.append(Waiting(title, why, question_id=question.id))
    return items


def _clinician(user: StaffUser) -> None:
    if not (user.is_clinician and user.active):
        raise NotAClinician("Only a clinician can approve clinical text.")


def approve_question(
    session: Session, question: PreVisitQuestion, user: StaffUser, now: datetime
) -> None:
    """The question's current wording is what patients get from now on. The caller commits."""
    _clinician(user)
    question.approved_text = question.text
    question.approved_by = user
    question.approved_at = now


def approve_fixed(session: Session, key: str, user: StaffUser, now: datetime) -> None:
    """Sign the fixed item's current words. The caller commits."""
    _clinician(user)
    item = BY_KEY[key]
    digest = content_hash(item)
    exists = session.scalar(
        sa.select(ClinicalSignOff.id).where(
            ClinicalSignOff.item == key, ClinicalSignOff.content_hash == digest
        )
    )
    if exists is None:
        session.add(
            ClinicalSignOff(item=key, content_hash=digest, approved_by=user, approved_at=now)
        )
