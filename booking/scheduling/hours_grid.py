"""Weekly hours as a week grid: a row per day, a start and an end per block of work (two or
more blocks a day, for a break at lunch). The grid turns into the same lines the CLI takes
("mon 09:00-13:00"), so both save hours the same way."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.models import WeeklyHours
from .availability import WEEKDAYS, parse_hours

DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MIN_BLOCKS = 2


@dataclass
class GridDay:
    weekday: int
    name: str
    blocks: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None


def grid_of(hours: list[WeeklyHours]) -> list[GridDay]:
    """The saved hours, with at least ``MIN_BLOCKS`` (empty) blocks on every day."""
    days = [GridDay(day, DAY_NAMES[day]) for day in range(7)]
    for block in sorted(hours, key=lambda b: (b.weekday, b.start_time)):
        days[block.weekday].blocks.append((f"{block.start_time:%H:%M}", f"{block.end_time:%H:%M}"))
    return _padded(days)


def _padded(days: list[GridDay]) -> list[GridDay]:
    width = max([MIN_BLOCKS, *(len(day.blocks) for day in days)])
    for day in days:
        day.blocks += [("", "")] * (width - len(day.blocks))
    return days


def read_grid(form) -> tuple[list[str], list[GridDay]]:
    """The posted grid as hours lines, and the grid as typed with an error on each day that
    needs one (the lines are only to be saved when no day has an error)."""
    days, lines = [], []
    for weekday in range(7):
        day = GridDay(weekday, DAY_NAMES[weekday])
        index = 0
        while f"d{weekday}-b{index}-start" in form:
            start = form.get(f"d{weekday}-b{index}-start", "").strip()[:8]
            end = form.get(f"d{weekday}-b{index}-end", "").strip()[:8]
            day.blocks.append((start, end))
            index += 1
        day.error, day_lines = _check(day)
        lines += day_lines
        days.append(day)
    return lines, _padded(days)


def _check(day: GridDay) -> tuple[str | None, list[str]]:
    lines, spans = [], []
    for start, end in day.blocks:
        if not start and not end:
            continue
        if not start or not end:
            return "Give both the start and the end of each block, or neither.", []
        line = f"{WEEKDAYS[day.weekday]} {start}-{end}"
        try:
            [(_, begins, ends)] = parse_hours(line)
        except ValueError:
            return f"{start} to {end} is not a block of time: the start must be earlier.", []
        lines.append(line)
        spans.append((begins, ends))
    spans.sort()
    for (_, earlier_end), (later_start, _) in zip(spans, spans[1:], strict=False):
        if later_start < earlier_end:
            return "Two blocks overlap: make one end before the next starts.", []
    return None, lines
