"""Run the clock-reading tests with the machine's clock set to moments that have broken them.

``make test-future`` runs this after the year-ahead run. A year ahead keeps the time of day, so
it cannot find a test that fails at one hour; these moments can:

- 18:20 UTC on a Saturday: 23:50 in India, past the last consult start of the test
  consultant's day (23:00), on a weekend, when "today" in the clinic is already tomorrow in
  some tests' arithmetic.
- 23:50 clinic time the night before the next change of daylight-saving time in New York: the
  clinic's day ends, and a patient in New York changes offset, within hours.
- 21:30 clinic time on the next weekday: the first day the desk's picker shows has only three
  times left (a test that took the fourth time of the first day failed then).

Both are worked out from the real today, so the run never depends on a date written down.
Chromium and ``time.sleep`` need the real clock: the browser tests and the one test that
sleeps (marked ``real_clock``) are left out of these runs and run in ``make test``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

CLINIC = ZoneInfo("Asia/Kolkata")
NEW_YORK = ZoneInfo("America/New_York")


def saturday_evening_utc(today: date) -> datetime:
    """18:20 UTC on the first Saturday after ``today``."""
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    return datetime.combine(saturday, time(18, 20), UTC)


def night_before_new_york_changes(today: date) -> datetime:
    """23:50 clinic time on the eve of the next day New York's offset changes."""
    day = today
    while True:
        day += timedelta(days=1)
        before = datetime.combine(day - timedelta(days=1), time(12), NEW_YORK).utcoffset()
        after = datetime.combine(day, time(12), NEW_YORK).utcoffset()
        if before != after:
            eve = day - timedelta(days=1)
            return datetime.combine(eve, time(23, 50), CLINIC).astimezone(UTC)


def late_evening_at_the_clinic(today: date) -> datetime:
    """21:30 clinic time on the first weekday after ``today``."""
    day = today + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(21, 30), CLINIC).astimezone(UTC)


def moments(today: date) -> list[datetime]:
    return [
        saturday_evening_utc(today),
        night_before_new_york_changes(today),
        late_evening_at_the_clinic(today),
    ]


def main(pytest_args: list[str]) -> int:
    today = datetime.now(UTC).date()
    failed = 0
    for moment in moments(today):
        stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
        print(f"--- the tests at {stamp} UTC ({moment.astimezone(CLINIC):%a %H:%M} in India)")
        env = dict(os.environ, TZ="UTC", FAKETIME_DONT_FAKE_MONOTONIC="1")
        command = ["faketime", "-f", f"@{stamp}", sys.executable, "-m", "pytest", *pytest_args]
        failed |= subprocess.run(command, env=env, check=False).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
