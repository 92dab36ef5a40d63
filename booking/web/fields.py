"""Form pieces shared by the patient's and the staff's pages: the text cleaners, the name rule,
the cheap big selects, and the time-zone and slot choice (booking, patient move, staff move).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import lru_cache
from typing import cast

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.timeutil import current_zone_name, is_known_timezone, timezone_names

# Control characters have no place in a name or an answer, and PostgreSQL refuses NUL outright.
# The zero-width joiner and non-joiner (U+200D, U+200C) stay: Indian scripts need them to spell
# words correctly, in names too.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u2028-\u202e\ufeff]")


def clean_text(value):
    """Trim, normalise and drop invisible control characters; keep line breaks."""
    if not isinstance(value, str):
        return value
    value = unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))
    return CONTROL.sub("", value).strip()


def clean_line(value):
    """As :func:`clean_text`, for one-line answers: line breaks become spaces."""
    value = clean_text(value)
    return re.sub(r"\s+", " ", value) if isinstance(value, str) else value


def required(message: str):
    # DataRequired looks at the cleaned value, so an answer of only spaces counts as none.
    return DataRequired(message=message)


def plain_name(field_form, field):
    """Names are shown in emails, on calendars and (later) in text messages, and no person's
    name has angle brackets: refusing them stops a name from being used to carry markup or a
    fake link, on top of the escaping every template does anyway."""
    if field.data and ("<" in field.data or ">" in field.data):
        raise ValidationError("A name cannot contain < or >.")


class QuickChoices:
    """Checks an answer against the set of the choices' values. WTForms builds an option object
    for every choice at each check (what rendering them needs, which a valid post never does);
    on the booking form's choice fields that was a tenth of a booking's time. An answer that is
    not in the set, and choices in any other shape than a dict of labels, go to WTForms' own
    check, so its messages are unchanged."""

    def pre_validate(self, form):
        field = cast(SelectField, self)
        choices = field.choices
        plain = isinstance(choices, dict) and all(isinstance(v, str) for v in choices.values())
        if field.process_errors or not field.validate_choice or not plain:
            return super().pre_validate(form)
        allowed = {field.coerce(value) for value in cast(dict, choices)}
        answers = field.data if isinstance(field, SelectMultipleField) else [field.data]
        if not all(answer in allowed for answer in answers or ()):
            return super().pre_validate(form)
        return None


class QuickSelectField(QuickChoices, SelectField):
    pass


class QuickRadioField(QuickChoices, RadioField):
    pass


class MultiCheckboxField(QuickChoices, SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def line(label, limit, *validators, **kwargs):
    return StringField(label, [*validators, Length(max=limit)], filters=[clean_line], **kwargs)


def text(label, limit, *validators, **kwargs):
    return TextAreaField(label, [*validators, Length(max=limit)], filters=[clean_text], **kwargs)


def with_placeholder(options, text="Choose one"):
    return {"": text, **dict(options)}


def slot_value(moment: datetime) -> str:
    """A slot as the form sends it: its UTC start, e.g. ``2026-12-01T04:30:00Z``."""
    return moment.isoformat().replace("+00:00", "Z")


# Where patients and their families most often are, by the names they would look for.
FRIENDLY_ZONES = {
    "Asia/Kolkata": "India",
    "Asia/Dubai": "United Arab Emirates (Dubai)",
    "Asia/Riyadh": "Saudi Arabia (Riyadh)",
    "Asia/Qatar": "Qatar (Doha)",
    "Asia/Kathmandu": "Nepal (Kathmandu)",
    "Asia/Dhaka": "Bangladesh (Dhaka)",
    "Asia/Colombo": "Sri Lanka (Colombo)",
    "Asia/Singapore": "Singapore",
    "Europe/London": "United Kingdom (London)",
    "America/New_York": "US Eastern (New York)",
    "America/Chicago": "US Central (Chicago)",
    "America/Los_Angeles": "US Pacific (Los Angeles)",
    "America/Toronto": "Canada Eastern (Toronto)",
    "Australia/Sydney": "Australia Eastern (Sydney)",
}


def zone_label(name: str) -> str:
    """ "India", "United Kingdom (London)"; otherwise the city, then its region."""
    if name in FRIENDLY_ZONES:
        return FRIENDLY_ZONES[name]
    region, _, place = name.partition("/")
    return f"{place.replace('_', ' ').replace('/', ', ')} ({region})" if place else name


@lru_cache(maxsize=64)
def _friendly_options(selected: str) -> tuple[tuple[str, str], ...]:
    common = [(name, label) for name, label in FRIENDLY_ZONES.items()]
    rest = sorted(
        ((name, zone_label(name)) for name in timezone_names() if name not in FRIENDLY_ZONES),
        key=lambda item: item[1],
    )
    options = [*common, *rest]
    chosen = [item for item in options if item[0] == selected]
    return tuple(chosen + [item for item in options if item[0] != selected])


MORE_ZONES = "more"


def timezone_choices(selected: str, every: bool = True) -> tuple[tuple[str, str], ...]:
    """Zones by names people recognise: the chosen (detected) one first, then the places
    patients most often book from, then (``every``) the rest by city, or else one "Another
    time zone" choice that asks for them: the first screen stays small on a phone."""
    options = _friendly_options(selected)
    if every:
        return options
    common = tuple(item for item in options if item[0] in FRIENDLY_ZONES or item[0] == selected)
    return (*common, (MORE_ZONES, "Another time zone…"))


def chosen_timezone(submitted: str | None, fallback: str) -> str:
    """The zone to show times in: the one asked for (under its current name), if it is real."""
    name = current_zone_name(submitted or "")
    return name if is_known_timezone(name) else fallback


class TimeChoiceForm(FlaskForm):
    """A time zone and a free slot: the last part of the booking form, and the move form."""

    # Both come from the picker (zone_select and time_grid in public/_picker.html).
    timezone = StringField("Show times in this time zone")
    slot = StringField("Consult time", validators=[required("Choose a time for the consult.")])

    def __init__(self, *args, free_slots=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.free_slot_values = {slot_value(moment) for moment in free_slots}

    def validate_timezone(self, field):
        field.data = current_zone_name(field.data or "")
        if not is_known_timezone(field.data):
            raise ValidationError("Choose a time zone from the list.")

    def validate_slot(self, field):
        if field.data not in self.free_slot_values:
            raise ValidationError(
                "That time was just taken or is no longer available. Please choose another time."
            )

    def slot_start(self) -> datetime:
        return datetime.fromisoformat(self.slot.data)
