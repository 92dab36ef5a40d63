"""Small helpers shared by several test files."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser

_CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def error_for(page: str, field_id: str) -> str:
    """The error message shown next to a field, as the patient reads it."""
    match = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', page, re.S)
    if not match:
        return ""
    return unescape(re.sub(r"<[^>]+>", "", match[1])).replace("Error:", "").strip()


def csrf_token(html: str) -> str:
    """The CSRF token a rendered form carries."""
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match[1]


_TIME = re.compile(r'name="slot" id="slot-\d+" value="(\d{4}-\d\d-\d\dT[^"]+Z)"')


def offered_times(html: str) -> list[str]:
    """The times the booking picker offers for the chosen day, as the form sends them."""
    return _TIME.findall(html)


_DAY_LINK = re.compile(r'<a class="day[^"]*" data-day href="([^"]+)"')


def day_links(html: str) -> list[str]:
    """The picker's day links, first free day first (each shows that day's times)."""
    return [unescape(href) for href in _DAY_LINK.findall(html)]


# Every tag the email templates write; anything else in an HTML part came from somewhere else.
EMAIL_TAGS = {
    "html",
    "head",
    "meta",
    "body",
    "p",
    "div",
    "h2",
    "ul",
    "li",
    "strong",
    "table",
    "tr",
    "th",
    "td",
    "a",
    "br",
}


class ParsedHtml(HTMLParser):
    """The tags and attributes an HTML document really has, and the text a reader sees."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    @property
    def seen(self) -> str:
        return "".join(self.text)


def assert_only_app_markup(html: str, base_url: str, label: str = "") -> ParsedHtml:
    """The HTML has only the templates' own tags, no event handlers, and links only to the app,
    a phone number or an email address: nothing a patient typed became markup."""
    parsed = ParsedHtml(html)
    for tag, attributes in parsed.tags:
        assert tag in EMAIL_TAGS, (label, tag)
        assert not any(name.startswith("on") for name in attributes), (label, tag)
        href = attributes.get("href")
        if href is not None:
            assert href.startswith((base_url, "tel:", "mailto:")), (label, href)
    return parsed


def write_unwritten_emails(session) -> None:
    """What the worker does to a booking's emails before sending them (writes them and keeps
    them in their rows), for tests that read the outbox without an SMTP server."""
    import sqlalchemy as sa

    from booking.core.models import OutboundEmail
    from booking.core.timeutil import now_utc
    from booking.messages.writing import read_facts, write

    unwritten = sa.select(OutboundEmail).where(
        OutboundEmail.body_text.is_(None), OutboundEmail.status == "pending"
    )
    for row in session.scalars(unwritten).all():
        write(session, row, read_facts(row.context), now_utc())
    session.commit()


def add_booking(consultant, starts_at, status="confirmed", minutes=30) -> None:
    """A bare booking row of ``consultant`` at ``starts_at``, added to the session (not
    committed): for the free-time tests, which need only its time and status."""
    from booking.core.models import Appointment
    from booking.extensions import db

    db.session.add(
        Appointment(
            reference=f"CT-{secrets.token_hex(3).upper()}",
            consultant=consultant,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            status=status,
            consult_mode="phone",
            patient_name="P",
            patient_email=f"{secrets.token_hex(4)}@example.com",
            patient_phone="+919876543210",
            preferred_channel="email",
            patient_timezone="UTC",
            booked_by="self",
            consent_health_at=starts_at,
            submission_key=secrets.token_hex(16),
        )
    )
