"""Video consults: each gets its own meeting link when it is booked.

The link is ``VIDEO_BASE_URL`` (Jitsi Meet by default, which needs no account) plus a room
name with 128 random bits, so nobody can guess another patient's room. It is stored with the
booking, shown on the confirmation page, in every patient email and reminder and in the
calendar file, and kept when the consult moves or changes consultant. Staff may replace it
with another meeting link (a clinic Zoom or Meet room). Until consultants have calendars of
their own, the consultant on the booking is emailed the link with the reference and the time,
nothing else.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app

from ..core import audit
from ..core.audit import Actor
from ..core.models import Appointment, StaffUser
from ..core.statuses import MessageKind
from ..extensions import Session
from ..messages.outbox import queue_message

MAX_LINK = 500


def new_video_link() -> str:
    base = current_app.config["VIDEO_BASE_URL"]
    if not base.endswith("/"):
        base += "/"
    return f"{base}consult-{secrets.token_hex(16)}"


def valid_meeting_link(text: str) -> bool:
    """An https address with a host, no spaces, of a reasonable length."""
    parts = urlsplit(text)
    return (
        len(text) <= MAX_LINK
        and parts.scheme == "https"
        and bool(parts.netloc)
        and not any(char.isspace() for char in text)
    )


def tell_consultant(
    session: Session,
    appointment: Appointment,
    consultant_email: str,
    now: datetime,
    kind: MessageKind = MessageKind.CONSULTANT_VIDEO,
) -> None:
    """Queue the consultant's notice (written by the worker when sent; its kind keeps which
    change it reports: booked or given a new link, moved, or cancelled)."""
    queue_message(session, kind, consultant_email, now, appointment)


def give_link(session: Session, appointment: Appointment, now: datetime) -> None:
    """A video booking without a link gets one, and its consultant is told."""
    if appointment.consult_mode != "video" or appointment.video_link:
        return
    appointment.video_link = new_video_link()
    consultant = appointment.consultant or session.get_one(StaffUser, appointment.consultant_id)
    tell_consultant(session, appointment, consultant.email, now)


def change_mode(
    session: Session, appointment: Appointment, mode: str, now: datetime, actor: Actor
) -> None:
    """Staff change how the consult happens (a caller asks for video instead of a phone
    call): a video consult gets its link, and the consultant is told. The caller commits."""
    if mode == appointment.consult_mode:
        return
    previous = appointment.consult_mode
    appointment.consult_mode = mode
    if mode == "video":
        give_link(session, appointment, now)
    audit.record(
        session, "mode_changed", now, actor, appointment=appointment, detail=f"{previous} -> {mode}"
    )


def replace_link(
    session: Session, appointment: Appointment, link: str, now: datetime, actor: Actor
) -> None:
    """Staff put another meeting link on the booking; every email from now on carries it, and
    the consultant is told. The caller commits."""
    appointment.video_link = link
    audit.record(session, "video_link_changed", now, actor, appointment=appointment)
    tell_consultant(session, appointment, appointment.consultant.email, now)
