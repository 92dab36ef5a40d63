"""Dates of birth as people in India write them, and ages.

Indian forms and documents write the day first (15/08/1962), so that is what the form asks for
and what it reads first; the ISO form (1962-08-15), which a browser's date picker sends, is
read too, and so are eight digits typed on a number pad (15081962) or spaces between the
parts. An ambiguous date is never guessed in the other order.
"""

from __future__ import annotations

import re
from datetime import date

from wtforms.validators import ValidationError

ADULT_AGE = 18
OLDEST_AGE = 120

_DAY_FIRST = re.compile(r"^(\d{1,2})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{4})$")
# A phone's number pad has no "/": eight digits are read as DDMMYYYY (15081962).
_DIGITS_ONLY = re.compile(r"^(\d{2})(\d{2})(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
FORMAT_MESSAGE = "Enter the date of birth as day/month/year, for example 15/08/1962."


def parse_birth_date(value: str | None, today: date) -> date:
    """The date, or a :class:`ValidationError` that says what to change."""
    text = (value or "").strip()
    if match := _DAY_FIRST.match(text) or _DIGITS_ONLY.match(text):
        day, month, year = (int(part) for part in match.groups())
    elif match := _ISO.match(text):
        year, month, day = (int(part) for part in match.groups())
    else:
        raise ValidationError(FORMAT_MESSAGE)
    try:
        born = date(year, month, day)
    except ValueError:
        raise ValidationError(
            "That date does not exist. Enter the date of birth as day/month/year."
        ) from None
    if born > today:
        raise ValidationError("The date of birth cannot be in the future.")
    if age_on(born, today) > OLDEST_AGE:
        raise ValidationError("Please check the year of birth.")
    return born


def age_on(born: date, today: date) -> int:
    """Whole years on ``today``; someone born on 29 February turns a year older on 1 March."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
