"""Which channels are on, and the short texts they carry.

Every reader gets email: it is the record, with the calendar file and the question list. A
reader whose chosen channel is WhatsApp or SMS gets a short text besides, on that channel.
Short texts travel on phones that families share and lock screens that anyone can read, so
they carry only the reference, the time in the reader's zone, how the consult happens (the
video link when there is one), the manage link and the clinic's phone: never a diagnosis,
treatment, insurance or symptom.

WhatsApp sends a business's first message only as a pre-approved template, and India lets
an SMS through only when it matches a DLT-registered template word for word. So each text is
a fixed template here with numbered variables, and ``TEXTS`` is what the clinic registers:
the README's table is this list (a test keeps them the same).

A channel with a setting missing is off: its readers get email only, the worker says so once
at start-up, and the staff home page shows it. Nothing crashes and nothing is dropped silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask, current_app

from ..core.models import ChannelOff
from ..core.statuses import Channel, MessageKind
from ..extensions import Session

log = logging.getLogger(__name__)

REQUIRED = {
    Channel.WHATSAPP: (
        "WHATSAPP_PHONE_NUMBER_ID",
        "WHATSAPP_TOKEN",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
    ),
    Channel.SMS: ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "SMS_DLT_ENTITY_ID"),
}


@dataclass(frozen=True)
class ShortText:
    """One registered text: its WhatsApp template's name (after the prefix setting), its
    words with {{1}}, {{2}} ... for the variables, and whether it carries the reminder's two
    quick-reply buttons."""

    template: str
    words: str
    buttons: bool = False


# Variables, in this order for every text: {{1}} the reference, {{2}} the time in the reader's
# zone, {{3}} how the consult happens, {{4}} the manage link, {{5}} the clinic's phone.
TEXTS: dict[MessageKind, ShortText] = {
    MessageKind.CONFIRMATION: ShortText(
        "booked",
        "The free consult {{1}} is booked for {{2}}. {{3}} To change or cancel: {{4}} "
        "Questions: {{5}}",
    ),
    MessageKind.REMINDER: ShortText(
        "reminder",
        "Reminder: the free consult {{1}} is at {{2}}. {{3}} To change or cancel: {{4}} "
        "Questions: {{5}}",
        buttons=True,
    ),
    MessageKind.MOVED: ShortText(
        "moved",
        "The free consult {{1}} has moved to {{2}}. {{3}} To change or cancel: {{4}} "
        "Questions: {{5}}",
    ),
    MessageKind.CANCELLED: ShortText(
        "cancelled",
        "The free consult {{1}} on {{2}} is cancelled. {{3}} To book again: {{4}} Questions: {{5}}",
    ),
}
# The quick replies on a WhatsApp reminder, and the payloads the webhook gets back.
ATTEND, CHANGE = "attend", "change"
BUTTONS = {ATTEND: "I will attend", CHANGE: "I need to change"}
# A session message (an answer to "I need to change", inside WhatsApp's 24-hour window).
CHANGE_LINK_WORDS = "To choose another time or cancel {{1}}, use this link: {{2}} Or call {{3}}."


def missing_settings(config, channel: Channel) -> list[str]:
    return [name for name in REQUIRED.get(channel, ()) if not config.get(name)]


def is_on(config, channel: Channel) -> bool:
    """Email is always on; WhatsApp and SMS once every setting they need is there."""
    return channel == Channel.EMAIL or not missing_settings(config, channel)


def channel_notes(config) -> list[str]:
    """One line per channel that is off, for the start-up log and the staff home page."""
    return [
        f"{channel.name.title() if channel != Channel.SMS else 'SMS'} is off: set "
        + ", ".join(missing_settings(config, channel))
        + " (see the README). Its readers get email only."
        for channel in (Channel.WHATSAPP, Channel.SMS)
        if not is_on(config, channel)
    ]


def dlt_template_ids(config) -> dict[str, str]:
    """``SMS_DLT_TEMPLATE_IDS=confirmation=1107...,reminder=1107...`` as a dict."""
    raw = config.get("SMS_DLT_TEMPLATE_IDS") or ""
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {kind.strip(): template_id.strip() for kind, template_id in pairs}


def fill(words: str, values: list[str]) -> str:
    """A registered text with its variables put in."""
    for number, value in enumerate(values, start=1):
        words = words.replace("{{" + str(number) + "}}", value)
    return words


def announce(app: Flask) -> None:
    """Say once, at start-up, which channels are off and why."""
    for note in channel_notes(app.config):
        log.info(note)


def channels_off(session: Session, phone: str) -> dict[str, str]:
    """The channels this number turned off (or that cannot reach it), with why."""
    rows = session.execute(
        sa.select(ChannelOff.channel, ChannelOff.reason).where(ChannelOff.phone == phone)
    ).all()
    return {channel: reason for channel, reason in rows}


def text_channel(session: Session, chosen: str, phone: str) -> Channel | None:
    """The channel of a reader's short text besides email: the one they chose when it is on
    and not turned off for their number; from WhatsApp, SMS next; else none (email only)."""
    wanted = chosen in (Channel.WHATSAPP, Channel.SMS)
    return first_open(chosen, channels_off(session, phone) if wanted else {})


# Why a channel is off, when its reader turned it off: then no other channel takes its place.
STOPPED = "STOP sent on WhatsApp"
STOPPED_ON_PAGE = "turned off on the booking's page"


def first_open(chosen: str, off: dict[str, str]) -> Channel | None:
    """:func:`text_channel` once the channels turned off for the number are known. A reader
    who said STOP gets email only; a number WhatsApp cannot reach gets SMS instead."""
    config = current_app.config
    order = {"whatsapp": (Channel.WHATSAPP, Channel.SMS), "sms": (Channel.SMS,)}
    for channel in order.get(chosen, ()):
        if channel in off:
            if off[channel] in (STOPPED, STOPPED_ON_PAGE):
                return None
            continue
        if is_on(config, channel):
            return channel
    return None


def channels_off_for(session: Session, phones: list[str]) -> dict[str, dict[str, str]]:
    """The channels turned off for each of ``phones`` (with why), in one query."""
    rows = session.execute(
        sa.select(ChannelOff.phone, ChannelOff.channel, ChannelOff.reason).where(
            ChannelOff.phone.in_(phones)
        )
    ).all()
    off: dict[str, dict[str, str]] = {phone: {} for phone in phones}
    for phone, channel, reason in rows:
        off[phone][channel] = reason
    return off


def turn_off(session: Session, phone: str, channel: Channel, reason: str, now) -> bool:
    """Record that ``phone`` gets no more texts on ``channel``; False when it already was."""
    if channel in channels_off(session, phone):
        return False
    session.add(ChannelOff(phone=phone, channel=channel, reason=reason, at=now))
    return True
