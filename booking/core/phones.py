"""Phone numbers as families type them, and as everyone reads them.

A daughter in New Jersey types "(201) 555-0134"; a son in Pune types "98765 43210". Each number
is read first as a number of the country the person's time zone lies in (the browser tells the
form its zone), then as one of the clinic's country (``DEFAULT_PHONE_REGION``), and always with
a country code when one is given. It is stored in E.164 (``+12015550134``) and shown
everywhere in one international form (``+1 201-555-0134``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import phonenumbers

# The clinic's own example, which its staff and its patients know.
CLINIC_EXAMPLES = {"IN": "+91 98765 43210"}


class NotAPhoneNumber(ValueError):
    """What was typed is not a phone number of any country tried; the message says how to
    write one, with an example for the person's own country."""


@cache
def _region_by_zone() -> dict[str, str]:
    """Each IANA time zone's country, from the zone table the tzdata package ships."""
    table = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    regions = {}
    for line in table.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        country, _, zone_name, *_ = line.split("\t")
        regions[zone_name] = country
    return regions


def region_of_zone(zone_name: str | None, default: str) -> str:
    """The country a time zone lies in (``America/New_York``: ``US``), else ``default``."""
    region = _region_by_zone().get(zone_name or "")
    if region and phonenumbers.country_code_for_region(region):
        return region
    return default


def example(region: str) -> str:
    """A mobile number of that country, written as it is dialled from abroad."""
    if region in CLINIC_EXAMPLES:
        return CLINIC_EXAMPLES[region]
    number = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    if number is None:
        return CLINIC_EXAMPLES["IN"]
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_hint(zone_name: str | None, default_region: str) -> str:
    """The hint by a phone field, with an example from the person's own country."""
    home = region_of_zone(zone_name, default_region)
    return f"With the country code, for example {example(home)}."


def read_phone(typed: str | None, zone_name: str | None, default_region: str) -> str:
    """The number in E.164, read as one of the zone's country, then of the clinic's; or
    :class:`NotAPhoneNumber` with an example for the zone's country."""
    home = region_of_zone(zone_name, default_region)
    for region in dict.fromkeys((home, default_region)):
        try:
            number = phonenumbers.parse(typed or "", region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise NotAPhoneNumber(f"Enter a phone number with its country code, like {example(home)}.")


def readable_phone(e164: str | None) -> str:
    """``+919876543210`` as ``+91 98765 43210``: stored in E.164, shown the way people read it."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
