"""Time helpers: UTC in the database, the person's own zone only for display."""

from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import sqlalchemy as sa
from flask import current_app


def now_utc() -> datetime:
    return datetime.now(UTC)


# Old names that browsers still report for a zone that has since been renamed (Chrome gives
# "Asia/Calcutta" for India). Shown as-is they read like a second, different time beside the
# clinic's "Asia/Kolkata"; they are the same zone under today's name.
OLD_ZONE_NAMES = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Dacca": "Asia/Dhaka",
    "Asia/Thimbu": "Asia/Thimphu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "Asia/Ujung_Pandang": "Asia/Makassar",
    "Europe/Kiev": "Europe/Kyiv",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "Atlantic/Faeroe": "Atlantic/Faroe",
    "Pacific/Truk": "Pacific/Chuuk",
    "Pacific/Ponape": "Pacific/Pohnpei",
}


def current_zone_name(name: str) -> str:
    return OLD_ZONE_NAMES.get(name, name)


@lru_cache(maxsize=1)
def timezone_names() -> tuple[str, ...]:
    """Zones offered in the time-zone select: real places under their current names, not the
    ``Etc/GMT+5`` aliases or the renamed ones."""
    names = {
        name
        for name in available_timezones()
        if "/" in name
        and not name.startswith(("Etc/", "SystemV/", "US/", "posix", "right"))
        and name not in OLD_ZONE_NAMES
    }
    return tuple(sorted(names | {"UTC"}))


def zone(name: str | None, fallback: str) -> tzinfo:
    """The named zone (under its current name), or the fallback when missing or unknown."""
    try:
        return ZoneInfo(current_zone_name(name)) if name else ZoneInfo(fallback)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(fallback)


def is_known_timezone(name: str) -> bool:
    return name in timezone_names()


def format_local(moment: datetime, tz: tzinfo, with_date: bool = True) -> str:
    """``Mon 30 Nov 2026, 09:00 IST``: unambiguous for people, with the zone's own name."""
    local = moment.astimezone(tz)
    clock = local.strftime("%H:%M")
    abbreviation = local.tzname() or ""
    if not with_date:
        return f"{clock} {abbreviation}".strip()
    day = f"{local.strftime('%a')} {local.day} {local.strftime('%b %Y')}"
    return f"{day}, {clock} {abbreviation}".strip()


def clinic_zone() -> ZoneInfo:
    """The clinic's zone, parsed once at start-up from ``CLINIC_TIMEZONE``."""
    return current_app.config["CLINIC_TZ"]


def clinic_today() -> date:
    """Today's date at the clinic: ages and "today" on staff pages follow the clinic's day."""
    return now_utc().astimezone(clinic_zone()).date()


def clinic_time(moment: datetime | None, pattern: str = "%a %d %b %Y %H:%M") -> str:
    """A stored UTC time as staff read it: in the clinic's zone (the ``clinic_time`` filter)."""
    return moment.astimezone(clinic_zone()).strftime(pattern) if moment else ""


def format_waiting(delta: timedelta) -> str:
    """``1 h 05 min``, ``2 days 3 h``: how long someone has waited, in the words staff read."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


class UTCDateTime(sa.types.TypeDecorator):
    """Aware UTC datetimes in Python; ``timestamptz`` on PostgreSQL, UTC text on SQLite.

    SQLite has no time-zone type and hands back naive values; normalising here means no code
    ever compares a naive time with an aware one.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.DateTime(timezone=True))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
