"""Finding a booking from what a caller says: part of a phone number (the last four digits
are usually what people read out), part of an email, any word of the patient's or the
caregiver's name, or the reference with or without its dash.

Each booking keeps one normalised search text (lower case, Latin accents removed, the phones as
digits, the reference without its dash), kept up to date whenever the booking is written.
PostgreSQL indexes it with trigrams, so ``LIKE '%...%'`` uses the index; SQLite scans the one
short column. The staff list stays two queries a page either way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import sqlalchemy as sa

from ..core.models import Appointment

MIN_DIGITS = 4
PHONES = "tel:"


def normalise(text: str | None) -> str:
    """Lower case, with the accents of Latin letters removed (José -> jose, Zoë -> zoe).
    Marks on other scripts are kept: a Devanagari vowel sign is part of the letter."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    kept: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char) and kept and kept[-1].isascii():
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


SEARCHED = (
    "reference",
    "patient_name",
    "patient_email",
    "booker_name",
    "booker_email",
    "patient_phone",
    "booker_phone",
)


def search_text_for(appointment) -> str:
    """What the search looks in, for one booking."""
    return search_text_of({name: getattr(appointment, name) for name in SEARCHED})


def search_text_of(values: Mapping[str, str | None]) -> str:
    """The same from a booking's column values (a booking written with a Core insert)."""
    parts = [
        (values["reference"] or "").replace("-", ""),
        values["patient_name"],
        values["patient_email"],
        values["booker_name"],
        values["booker_email"],
    ]
    # The phones last, after a marker, so a number typed matches phones and not references.
    phones = [digits(values[name]) for name in ("patient_phone", "booker_phone")]
    return " | ".join(
        [normalise(part) for part in parts if part] + [PHONES + " ".join(filter(None, phones))]
    )


def condition(query_text: str) -> sa.ColumnElement[bool] | None:
    """The condition for what staff typed, or None when there is nothing to search for.

    A query that is a phone number once spaces, dashes and "+" are dropped matches those digits
    anywhere in a phone (so the last four do); otherwise every word typed must appear (in any
    order), and a reference matches with or without its dash."""
    text = normalise(query_text).strip()
    if not text:
        return None
    compact = re.sub(r"[\s+\-().]", "", text)
    if compact.isdigit():
        if len(compact) < MIN_DIGITS:
            return sa.false()
        return Appointment.search_text.like(f"%{PHONES}%{compact}%")
    words = text.split()
    conditions = [
        sa.or_(
            Appointment.search_text.contains(word, autoescape=True),
            Appointment.search_text.contains(word.replace("-", ""), autoescape=True),
        )
        if "-" in word
        else Appointment.search_text.contains(word, autoescape=True)
        for word in words
    ]
    return sa.and_(*conditions)


@sa.event.listens_for(Appointment, "before_insert")
@sa.event.listens_for(Appointment, "before_update")
def _keep_search_text(mapper, connection, appointment) -> None:
    """Every write of a booking through the ORM keeps its search text current."""
    appointment.search_text = search_text_for(appointment)
