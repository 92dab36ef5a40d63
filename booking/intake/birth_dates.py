"""Dates of birth as people in India write them, a year of birth, or an age.

Indian forms and documents write the day first (15/08/1962), so that is what the form asks for
and what it reads first; the ISO form (1962-08-15), which a browser's date picker sends, is
read too, and so are eight digits typed on a number pad (15081962) or spaces between the
parts. An ambiguous date is never guessed in the other order.

Many elders have no recorded date of birth: a year (1952) or an age (74) is accepted too. It
is kept as a year ("1952", an ISO 8601 date of reduced precision) and shown as "about 74", so
the age stays right in later years and nobody reads it as exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from wtforms.validators import ValidationError

ADULT_AGE = 18
OLDEST_AGE = 120

_DAY_FIRST = re.compile(r"^(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{4})$")
# A phone's number pad has no "/": eight digits are read as DDMMYYYY (15081962).
_DIGITS_ONLY = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_YEAR = re.compile(r"^(?:born\s*(?:in\s*)?)?(\d{4})$", re.IGNORECASE)
_AGE = re.compile(
    r"^(?:about\s*|age\s*|approx\.?\s*)?(\d{1,3})(?:\s*(?:years?|yrs?)(?:\s*old)?)?$", re.IGNORECASE
)
FORMAT_MESSAGE = (
    "Enter the date of birth as day/month/year, for example 15/08/1962. If the exact date is "
    "not known, enter the year of birth (1952) or the age (74)."
)


@dataclass(frozen=True)
class Born:
    """When the patient was born, as exactly as the family knows it: a date, or a year."""

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def from_stored(cls, text: str | None) -> Born | None:
        if not text:
            return None
        if len(text) == 4:
            return cls(int(text))
        exact = date.fromisoformat(text)
        return cls(exact.year, exact.month, exact.day)

    @property
    def exact(self) -> date | None:
        if self.month is None or self.day is None:
            return None
        return date(self.year, self.month, self.day)

    def stored(self) -> str:
        exact = self.exact
        return exact.isoformat() if exact else f"{self.year:04d}"

    def as_typed(self) -> str:
        """How the form shows it again."""
        exact = self.exact
        return exact.strftime("%d/%m/%Y") if exact else str(self.year)

    def age_on(self, today: date) -> int:
        """Whole years; from a year alone, the age reached this calendar year."""
        exact = self.exact
        return age_on(exact, today) if exact else today.year - self.year

    def age_in_words(self, today: date) -> str:
        """'64', or 'about 74' from a year alone."""
        return f"{'' if self.exact else 'about '}{self.age_on(today)}"

    def in_words(self, today: date) -> str:
        """'64 (born 15 Aug 1962)', or 'about 74 (born in 1952; exact date not known)'."""
        exact = self.exact
        if exact:
            return f"{self.age_in_words(today)} (born {exact.strftime('%d %b %Y')})"
        return f"{self.age_in_words(today)} (born in {self.year}; exact date not known)"


def parse_birth_date(value: str | None, today: date) -> Born:
    """The date, year or age, or a :class:`ValidationError` that says what to change."""
    text = (value or "").strip()
    if match := _DAY_FIRST.match(text) or _DIGITS_ONLY.match(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _YEAR.match(text):
        return _checked(Born(int(match.group(1))), today)
    elif match := _AGE.match(text):
        age = int(match.group(1))
        if age > OLDEST_AGE:
            raise ValidationError("Please check the age.")
        return Born(today.year - age)
    else:
        raise ValidationError(FORMAT_MESSAGE)
    try:
        born = date(year, month, day)
    except ValueError:
        raise ValidationError(
            "That date does not exist. Enter the date of birth as day/month/year."
        ) from None
    return _checked(Born(born.year, born.month, born.day), today)


def _checked(born: Born, today: date) -> Born:
    exact = born.exact
    if (exact and exact > today) or born.year > today.year:
        raise ValidationError("The date of birth cannot be in the future.")
    if born.age_on(today) > OLDEST_AGE:
        raise ValidationError("Please check the year of birth.")
    return born


def age_on(born: date, today: date) -> int:
    """Whole years on ``today``; someone born on 29 February turns a year older on 1 March."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
