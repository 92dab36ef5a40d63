"""What WhatsApp and the SMS provider tell us after a text left: delivery statuses, and the
reader's replies (a reminder's "I will attend" or "I need to change", or STOP).

Each event is handled once, whatever the provider repeats (``ProviderEvent`` keys). A reply
acts only on a booking whose reader has the number it came from: knowing a reference is not
enough. A status for a message id we do not know yet is reported back as unknown, so the
provider delivers it again (the worker records the id the moment the provider accepts it).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ..core import audit
from ..core.audit import Actor
from ..core.models import Appointment, OutboundEmail, ProviderEvent
from ..core.statuses import AppointmentStatus, Channel, Delivery, MessageKind, Reader
from ..extensions import Session
from .channels import ATTEND, CHANGE, STOPPED, turn_off
from .outbox import queue_message, requeue_on_next_channel
from .texts import NOT_ON_WHATSAPP

log = logging.getLogger(__name__)

# A status never goes back: "read" stays read when a late "delivered" arrives.
RANK = {Delivery.SENT: 1, Delivery.DELIVERED: 2, Delivery.READ: 3, Delivery.FAILED: 4}
STOP_WORDS = {"STOP", "STOP ALL", "UNSUBSCRIBE", "CANCEL MESSAGES", "बंद"}
TWILIO_STATUS = {
    "queued": Delivery.SENT,
    "sending": Delivery.SENT,
    "sent": Delivery.SENT,
    "delivered": Delivery.DELIVERED,
    "read": Delivery.READ,
    "undelivered": Delivery.FAILED,
    "failed": Delivery.FAILED,
}


def _seen(session: Session, key: str, now: datetime) -> bool:
    """Whether this event was handled before; records it when not. One statement on either
    database: two deliveries of one event at once cannot both pass."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(ProviderEvent)
        .values(key=key[:200], received_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    return not cast(sa.CursorResult, inserted).rowcount


def record_delivery(
    session: Session, provider_id: str, status: Delivery, error: str | None, code, now
) -> bool:
    """Record a text's delivery status; False when the id is not (yet) ours."""
    row = session.scalar(sa.select(OutboundEmail).where(OutboundEmail.provider_id == provider_id))
    if row is None:
        return False
    if RANK[status] > RANK.get(row.delivery or "", 0):  # type: ignore[call-overload]
        row.delivery = status
    if status == Delivery.FAILED:
        row.delivery_error = (error or "failed")[:200]
        if row.channel == Channel.WHATSAPP and code in NOT_ON_WHATSAPP:
            requeue_on_next_channel(session, row, "not on WhatsApp", now)
    return True


def record_whatsapp(session: Session, payload: dict, now: datetime) -> bool:
    """Handle one WhatsApp webhook body; False when it names a message we do not know yet.
    The caller commits."""
    known = True
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or []:
            value = change.get("value") or {}
            for status in value.get("statuses") or []:
                key = f"wa-status:{status.get('id')}:{status.get('status')}"
                if status.get("status") not in {d.value for d in Delivery} or _seen(
                    session, key, now
                ):
                    continue
                errors = status.get("errors") or [{}]
                code = errors[0].get("code")
                error = f"{code} {errors[0].get('title', '')}".strip() if code else None
                if not record_delivery(
                    session, str(status.get("id")), Delivery(status["status"]), error, code, now
                ):
                    session.execute(sa.delete(ProviderEvent).where(ProviderEvent.key == key[:200]))
                    known = False
            for message in value.get("messages") or []:
                if not _seen(session, f"wa-message:{message.get('id')}", now):
                    _reply(session, message, now)
    return known


def record_sms_status(session: Session, params: dict[str, str], now: datetime) -> bool:
    """Handle one Twilio status callback; False when the message is not (yet) ours."""
    status = TWILIO_STATUS.get(params.get("MessageStatus", ""))
    sid = params.get("MessageSid", "")
    if status is None or not sid:
        return True
    key = f"twilio:{sid}:{params.get('MessageStatus')}"
    if _seen(session, key, now):
        return True
    code = params.get("ErrorCode")
    if record_delivery(session, sid, status, f"Twilio error {code}" if code else None, code, now):
        return True
    session.execute(sa.delete(ProviderEvent).where(ProviderEvent.key == key))
    return False


def _bookings_of(session: Session, phone: str, reference: str | None = None) -> list:
    """Upcoming bookings one of whose readers has this number (and this reference)."""
    query = sa.select(Appointment).where(
        sa.or_(Appointment.patient_phone == phone, Appointment.booker_phone == phone),
        Appointment.status == AppointmentStatus.CONFIRMED,
        Appointment.erased_at.is_(None),
    )
    if reference is not None:
        query = query.where(Appointment.reference == reference)
    return list(session.scalars(query))


def _reply(session: Session, message: dict, now: datetime) -> None:
    phone = "+" + str(message.get("from", "")).lstrip("+")
    if message.get("type") == "button":
        payload = str((message.get("button") or {}).get("payload", ""))
        answer, _, reference = payload.partition(":")
        for appointment in _bookings_of(session, phone, reference):
            _answered(session, appointment, answer, phone, now)
        return
    text = str((message.get("text") or {}).get("body", "")).strip().upper()
    if text in STOP_WORDS:
        turned = turn_off(session, phone, Channel.WHATSAPP, STOPPED, now)
        for appointment in _bookings_of(session, phone) if turned else []:
            audit.record(
                session,
                "whatsapp_stopped",
                now,
                Actor.patient(reader=_role(appointment, phone)),
                appointment=appointment,
                detail=f"from {phone[:-4]}…{phone[-2:]}",
            )
        log.info("WhatsApp turned off for a number at its owner's request")


def _role(appointment: Appointment, phone: str) -> str:
    return Reader.PATIENT if appointment.patient_phone == phone else Reader.RELATIVE


def _answered(session: Session, appointment: Appointment, answer: str, phone: str, now) -> None:
    """A reminder's quick reply: recorded on the booking for staff; "change" is answered with
    the reader's manage link (a session message, allowed within WhatsApp's 24 hours)."""
    if answer not in (ATTEND, CHANGE):
        return
    appointment.attendance = "attending" if answer == ATTEND else "change"
    appointment.attendance_at = now
    role = _role(appointment, phone)
    action = "attendance_confirmed" if answer == ATTEND else "change_asked"
    audit.record(session, action, now, Actor.patient(reader=role), appointment=appointment)
    if answer == CHANGE:
        queue_message(
            session,
            MessageKind.CHANGE_LINK,
            phone,
            now,
            appointment,
            channel=Channel.WHATSAPP,
            reader=role,
        )
