"""Durations written the way people write them in settings: ``90m``, ``2h``, ``30d``.

Every duration setting goes through :func:`parse_duration` so that a typo stops start-up with
a message naming the setting, instead of silently meaning zero.
"""

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str, setting: str = "duration") -> timedelta:
    """Parse ``"90m"``, ``"2h"``, ``"1h30m"`` or ``"30d"`` into a timedelta.

    A bare number is refused on purpose: ``REMINDER_OFFSETS=24`` could mean hours or minutes,
    and a reminder sent at the wrong time is worse than a clear start-up error.
    """
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(f"{setting}={text!r} is not a duration; write it like 90m, 2h or 30d")
    total = timedelta()
    for amount, unit in _PART.findall(cleaned):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def parse_duration_list(text: str, setting: str) -> list[timedelta]:
    """Parse a comma-separated list such as ``"24h,2h"``; duplicates are dropped."""
    items = [part for part in text.split(",") if part.strip()]
    return sorted({parse_duration(part, setting) for part in items}, reverse=True)
