"""The check of every answer shows them as the form read them."""

from datetime import date

import pytest

from booking.web.details_steps import birth_in_words


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("12031955", "12 March 1955"),
        ("12/03/1955", "12 March 1955"),
        ("72", "born in 1954, about 72"),
        ("1954", "born in 1954, about 72"),
        ("the 12th", "the 12th"),  # not read: shown as typed, and the step says why
    ],
)
def test_the_check_shows_the_date_of_birth_as_it_was_read(typed, shown):
    assert birth_in_words(typed, date(2026, 12, 5)) == shown
