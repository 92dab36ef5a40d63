"""Correcting a booking's contact details, and sending the confirmation again.

A mistyped email means the patient receives nothing, and nobody can reach them but by phone:
the front desk corrects it and resends. Only contact fields can change here; each change is
audited with its old and new value (contact details, never health data). Emails still waiting
in the outbox for the old address go to the new one; sent ones stay as they were.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..core import audit
from ..core.audit import Actor
from ..core.models import Appointment, ManageToken, OutboundEmail
from ..core.statuses import MessageKind, OutboxStatus, Reader
from ..extensions import Session
from ..messages.outbox import ENCRYPTED_BODY, queue_for_readers, queue_message
from ..messages.readers import readers

CONTACT_FIELDS = {
    "patient_name": "patient's name",
    "patient_email": "email",
    "patient_phone": "phone",
    "preferred_channel": "preferred channel",
    "booker_name": "booker's name",
    "booker_email": "booker's email",
    "booker_phone": "booker's phone",
    "relative_channel": "booker's preferred channel",
    "messages_to": "messages go to",
}
# The details whose change is told to the address they replace, and whose they are.
WHOSE_CONTACT = {
    "patient_email": Reader.PATIENT,
    "patient_phone": Reader.PATIENT,
    "booker_email": Reader.RELATIVE,
    "booker_phone": Reader.RELATIVE,
}
PATIENT_KINDS = (
    MessageKind.CONFIRMATION,
    MessageKind.REMINDER,
    MessageKind.MOVED,
    MessageKind.CANCELLED,
)


def correct_contact(
    session: Session, appointment: Appointment, values: dict, now: datetime, actor: Actor
) -> list[str]:
    """Set the contact fields given in ``values``; return the labels of those that changed.
    The caller commits."""
    changed = []
    replaced: dict[Reader, dict[str, str | None]] = {}
    for name, label in CONTACT_FIELDS.items():
        if name not in values:
            continue
        old, new = getattr(appointment, name), values[name]
        if (old or None) == (new or None):
            continue
        setattr(appointment, name, new)
        changed.append(label)
        audit.record(
            session,
            "contact_corrected",
            now,
            actor,
            appointment=appointment,
            detail=f"{label}: {_short(old)} -> {_short(new)}",
        )
        if name == "patient_email":
            _retarget_waiting(session, appointment, old, new)
        if name in WHOSE_CONTACT:
            replaced.setdefault(WHOSE_CONTACT[name], {})[name] = old
    for reader, details in replaced.items():
        _tell_the_replaced_address(session, appointment, reader, details, now)
    if replaced:
        appointment.data_held_at = now
    return changed


def _tell_the_replaced_address(
    session: Session, appointment: Appointment, reader: Reader, details: dict, now: datetime
) -> None:
    """Someone posing as the patient could ask the desk to change the email and then read
    everything from the new address: the replaced address is told (which details changed,
    not the new values), and the links sent to it stop working."""
    email_field = "patient_email" if reader == Reader.PATIENT else "booker_email"
    to = details.get(email_field) or getattr(appointment, email_field)
    changed = " and ".join(
        word
        for field, word in (("email", "email address"), ("phone", "phone number"))
        if any(name.endswith(field) for name in details)
    )
    # Only someone who gets messages about this consult is told: a patient whose messages go
    # to the relative (perhaps not knowing of it at all) is not written to now.
    if to and reader in {someone.role for someone in readers(appointment)}:
        queue_message(
            session,
            MessageKind.CONTACT_CHANGED,
            to,
            now,
            appointment,
            reader=reader,
            changed=changed,
        )
    if email_field in details:
        whose = ManageToken.reader == reader
        if reader == Reader.PATIENT:  # links sent before readers were kept were the patient's
            whose = sa.or_(whose, ManageToken.reader.is_(None))
        session.execute(
            sa.delete(ManageToken).where(ManageToken.appointment_id == appointment.id, whose)
        )


def _short(value: str | None) -> str:
    text = value or "(none)"
    return text if len(text) <= 90 else text[:89] + "…"


def _retarget_waiting(session: Session, appointment: Appointment, old: str, new: str) -> None:
    """Patient emails not sent yet go to the corrected address."""
    session.execute(
        sa.update(OutboundEmail)
        .where(
            OutboundEmail.appointment_id == appointment.id,
            OutboundEmail.recipient == old,
            OutboundEmail.status == OutboxStatus.PENDING,
            OutboundEmail.kind.in_(PATIENT_KINDS),
        )
        .values(recipient=new)
        .execution_options(synchronize_session=False)
    )


def confirm_contact_change(
    session: Session, appointment: Appointment, now: datetime, actor: Actor
) -> None:
    """The desk confirmed a change with the patient by phone: the data pages open again.
    The caller commits."""
    appointment.data_held_at = None
    audit.record(session, "contact_confirmed", now, actor, appointment=appointment)


def resend_confirmation(
    session: Session, appointment: Appointment, now: datetime, actor: Actor
) -> None:
    """Queue the confirmation again, to the current address; the worker writes it when it
    sends it, with the consult's current details and a fresh manage link. The caller commits."""
    queue_for_readers(session, MessageKind.CONFIRMATION, now, appointment)
    audit.record(session, "confirmation_resent", now, actor, appointment=appointment)


def undelivered(session: Session, appointment: Appointment) -> OutboundEmail | None:
    """The latest patient email that could not be delivered (dead), if nothing has been
    delivered to the patient since (a relative's copy is not the patient's)."""
    latest = session.scalar(
        sa.select(OutboundEmail)
        .where(
            OutboundEmail.appointment_id == appointment.id,
            OutboundEmail.recipient == appointment.patient_email,
            OutboundEmail.kind.in_(PATIENT_KINDS),
            OutboundEmail.status.in_((OutboxStatus.DEAD, OutboxStatus.SENT)),
        )
        .options(*(so.defer(column) for column in ENCRYPTED_BODY))
        .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
        .limit(1)
    )
    return latest if latest is not None and latest.status == OutboxStatus.DEAD else None
