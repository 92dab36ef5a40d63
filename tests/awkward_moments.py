"""Run the clock-reading tests with their clock set a year ahead, at moments of the day that
have broken them.

``make test-future`` runs this. Moving the clock a year ahead alone keeps the time of day, so
it cannot find a test that fails at one hour; these moments, each more than a year from today,
find both kinds:

- 18:20 UTC on a Saturday: 23:50 in India, past the last consult start of the test
  consultant's day (23:00), on a weekend.
- 23:50 clinic time on the eve of a change of daylight-saving time in New York: the clinic's
  day ends, and a patient in New York changes offset, within hours.
- 21:30 clinic time on a weekday: the first day the desk's picker shows has only three times
  left (a test that took the fourth time of the first day failed then). Only the tests that
  read the first day's times run at this moment.

They are worked out from the real today, so the run never depends on a date written down.
Each run sets ``TESTS_AT``; ``conftest.py`` then starts every clock the code reads at that
moment (time-machine, in each test process; the monotonic clock and sleeps stay real, so the
runs go in parallel like ``make test``). ``SELECTION`` says which tests are left out of these
runs; ``make test`` runs them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# The tests that read the clock: they book, hold or list relative to the real now.
CLOCK_READING = [
    f"tests/test_{name}.py"
    for name in (
        "reminders",
        "manage",
        "safety",
        "booking_flow",
        "availability",
        "staff_appointments",
        "outbox",
        "staff_auth",
        "front_desk",
        "worker",
        "staff_booking",
        "booking_steps",
        "video",
        "readers",
        "channels",
        "written_at_send",
    )
]
# The tests that take times from the first day the picker shows.
FIRST_DAY = ["tests/test_staff_booking.py", "tests/test_booking_steps.py"]
# Left out under a set clock: the browser (Chromium keeps the real clock), the tests whose
# subject runs in another process (it keeps the real clock too), and the load-shaped tests
# (many rows or threads to show a shape; they read no clock of their own).
SELECTION = ["-m", "not browser and not real_clock and not load"]

CLINIC = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")
A_YEAR = timedelta(days=366)


def saturday_evening_utc(after: date) -> datetime:
    """18:20 UTC on the first Saturday after ``after``."""
    saturday = after + timedelta(days=(5 - after.weekday()) % 7 or 7)
    return datetime.combine(saturday, time(18, 20), UTC)


def night_before_new_york_changes(after: date) -> datetime:
    """23:50 clinic time on the eve of the first day after ``after`` that New York's offset
    changes."""
    day = after
    while True:
        day += timedelta(days=1)
        before = datetime.combine(day - timedelta(days=1), time(12), NEW_YORK).utcoffset()
        if before != datetime.combine(day, time(12), NEW_YORK).utcoffset():
            eve = day - timedelta(days=1)
            return datetime.combine(eve, time(23, 50), CLINIC).astimezone(UTC)


def late_evening_at_the_clinic(after: date) -> datetime:
    """21:30 clinic time on the first weekday after ``after``."""
    day = after + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(21, 30), CLINIC).astimezone(UTC)


def moments(today: date) -> list[tuple[datetime, list[str]]]:
    """Each moment, with the tests it runs."""
    after = today + A_YEAR
    return [
        (saturday_evening_utc(after), CLOCK_READING),
        (night_before_new_york_changes(after), CLOCK_READING),
        (late_evening_at_the_clinic(after), FIRST_DAY),
    ]


def main(pytest_args: list[str]) -> int:
    failed = 0
    for moment, tests in moments(datetime.now(UTC).date()):
        stamp = moment.isoformat()
        print(
            f"--- the tests at {stamp} ({moment.astimezone(CLINIC):%a %H:%M} in India)", flush=True
        )
        env = dict(os.environ, TESTS_AT=stamp)
        command = [sys.executable, "-m", "pytest", *SELECTION, *pytest_args, *tests]
        failed |= subprocess.run(command, env=env, check=False).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
