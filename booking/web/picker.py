"""The day-then-time picker: free times grouped by the patient's own day, at most 14 days a
page, and the chosen day's times with their labels in the patient's zone and the clinic's.

Pure functions of the free slots, so the booking page, the details page's "change the time"
and (later) the staff booking page show the same picker.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from ..core.timeutil import format_local
from .fields import slot_value

DAYS_PER_PAGE = 14


@dataclass(frozen=True)
class Day:
    date: date
    count: int

    @property
    def weekday(self) -> str:
        return self.date.strftime("%a")

    @property
    def label(self) -> str:
        return f"{self.date.day} {self.date.strftime('%b')}"

    @property
    def long(self) -> str:
        return f"{self.date.strftime('%A')} {self.date.day} {self.date.strftime('%B')}"


@dataclass(frozen=True)
class Time:
    value: str  # the slot as the form sends it: its UTC start
    label: str  # "11:30", in the patient's zone
    clinic_label: str | None  # "11:30 IST" at the clinic, when that zone differs
    summary: str  # "Monday 30 November, 11:30 your time"


@dataclass(frozen=True)
class Picker:
    days: list[Day]
    chosen: Day | None
    times: list[Time]
    earlier: date | None  # the first day of the previous page of days
    later: date | None  # the first day of the next page


def _same_zone(a: tzinfo, b: tzinfo) -> bool:
    return str(a) == str(b)


def describe(
    moment: datetime, patient_tz: tzinfo, clinic_tz: tzinfo, whose: str = "your time"
) -> str:
    """ "Monday 30 November, 11:30 your time" (with the clinic's time when it differs); staff
    reading the clinic's times read "clinic time" instead."""
    local = moment.astimezone(patient_tz)
    day = f"{local.strftime('%A')} {local.day} {local.strftime('%B')}"
    text = f"{day}, {local.strftime('%H:%M')} {whose}"
    if not _same_zone(patient_tz, clinic_tz):
        text += f" ({clinic_time_beside(moment, patient_tz, clinic_tz, long=True)} at the clinic)"
    return text


def clinic_time_beside(moment: datetime, patient_tz: tzinfo, clinic_tz: tzinfo, long=False) -> str:
    """The clinic's time shown beside the reader's: "09:00 IST", with the clinic's day when it
    is not the reader's ("Tue 09:00 IST"), or a daughter in New Jersey tells her mother in
    Pune the wrong day."""
    clock = format_local(moment, clinic_tz, with_date=False)
    clinic_day = moment.astimezone(clinic_tz)
    if clinic_day.date() == moment.astimezone(patient_tz).date():
        return clock
    return f"{clinic_day.strftime('%A' if long else '%a')} {clock}"


def build_picker(
    slots,
    patient_tz: tzinfo,
    clinic_tz: tzinfo,
    wanted_day: date | None = None,
    from_day: date | None = None,
    whose: str = "your time",
) -> Picker:
    by_day: dict[date, list[datetime]] = defaultdict(list)
    for moment in slots:
        by_day[moment.astimezone(patient_tz).date()].append(moment)
    all_days = sorted(by_day)
    if not all_days:
        return Picker([], None, [], None, None)
    if wanted_day in by_day and from_day is None:
        from_day = wanted_day
    start = 0
    if from_day is not None:
        start = next((i for i, day in enumerate(all_days) if day >= from_day), len(all_days) - 1)
    # Pages of days start at multiples of 14 from the first free day, so paging is stable.
    start -= start % DAYS_PER_PAGE
    shown = all_days[start : start + DAYS_PER_PAGE]
    chosen_date = wanted_day if wanted_day in shown else shown[0]
    same = _same_zone(patient_tz, clinic_tz)
    times = [
        Time(
            value=slot_value(moment),
            # With two zones on screen, each time names its zone ("06:00 EST").
            label=moment.astimezone(patient_tz).strftime("%H:%M")
            if same
            else format_local(moment, patient_tz, with_date=False),
            clinic_label=None if same else clinic_time_beside(moment, patient_tz, clinic_tz),
            summary=describe(moment, patient_tz, clinic_tz, whose),
        )
        for moment in by_day[chosen_date]
    ]
    return Picker(
        days=[Day(day, len(by_day[day])) for day in shown],
        chosen=Day(chosen_date, len(by_day[chosen_date])),
        times=times,
        earlier=all_days[start - DAYS_PER_PAGE] if start >= DAYS_PER_PAGE else None,
        later=all_days[start + DAYS_PER_PAGE] if start + DAYS_PER_PAGE < len(all_days) else None,
    )


def parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
