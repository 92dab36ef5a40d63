"""The outbox: every message (an email, or a WhatsApp or SMS text) is a row written in the same
transaction as the change it reports, and written and sent later by the worker. A request
never talks to the SMTP server or a provider, and a crash never loses a message.

Sending, one batch at a time:

1. **Claim** due rows atomically: a single ``UPDATE ... RETURNING`` marks them ``sending`` with a
   lease (on PostgreSQL the inner select takes ``FOR UPDATE SKIP LOCKED``, so two workers split
   the work instead of waiting on each other). A row whose lease ran out (its worker died
   mid-send) is due again.
2. **Send** emails over one SMTP connection with a socket timeout, recording each row as
   ``sent`` (and committing) as soon as the server accepts it, so a worker killed mid-batch
   resends at most the one message in flight, with its original Message-ID. Texts go one HTTP
   request each, recorded at once with the provider's id (its statuses come back by webhook,
   see ``provider_events.py``).
3. On failure, **retry** with growing backoff; after ``OUTBOX_MAX_ATTEMPTS`` the row is ``dead``
   and waits for staff. The Message-ID is fixed when the row is written, so a resend after a
   crash carries the same ID and mail clients show one message.
"""

from __future__ import annotations

import json
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any, cast

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_mail import Connection

from ..core.crypto import decrypt
from ..core.due_rows import take_due
from ..core.models import Appointment, OutboundEmail, Reminder
from ..core.statuses import Channel, Delivery, MessageKind, OutboxStatus
from ..core.timeutil import now_utc
from ..extensions import Session
from .channels import TEXTS, text_channel, turn_off
from .mime import message_bytes
from .notifications import Email
from .readers import is_discreet_copy, readers
from .texts import TextFailed, WhatsAppTemplate, send_sms, send_whatsapp, send_whatsapp_text
from .writing import NothingToWrite, read_facts, recorded_facts, write

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
ENCRYPTED_BODY = (OutboundEmail.body_text, OutboundEmail.body_html, OutboundEmail.ics)
# The facts a message is written from (see writing.py); encrypted like the bodies.
ENCRYPTED = (*ENCRYPTED_BODY, OutboundEmail.context)


def queue_message(
    session: Session,
    kind: MessageKind,
    recipient: str,
    now: datetime,
    appointment: Appointment | None = None,
    reminder: Reminder | None = None,
    channel: Channel = Channel.EMAIL,
    **facts,
) -> OutboundEmail:
    """Add one message to the outbox, in the caller's transaction: the worker writes it when
    it sends it (:mod:`booking.messages.writing`), from the booking as it stands now and the
    change's ``facts``. ``recipient`` is an address, or a phone number for a text."""
    row = OutboundEmail(
        appointment=appointment,
        reminder=reminder,
        **new_email_values(kind, recipient, now, recorded_facts(appointment, **facts), channel),
    )
    session.add(row)
    return row


def queue_for_readers(
    session: Session,
    kind: MessageKind,
    now: datetime,
    appointment: Appointment,
    reminder: Reminder | None = None,
    **facts,
) -> None:
    """Queue a patient-side message to everyone who reads this booking's messages (the
    patient, the relative who booked, or both: ``readers.py``), each written in their voice:
    by email, and as a short text on WhatsApp or SMS when that is the reader's channel."""
    for reader in readers(appointment):
        queue_message(
            session, kind, reader.email, now, appointment, reminder, reader=reader.role, **facts
        )
        channel = text_channel(session, reader.channel, reader.phone) if kind in TEXTS else None
        if channel is not None:
            queue_message(
                session,
                kind,
                reader.phone,
                now,
                appointment,
                reminder,
                channel=channel,
                reader=reader.role,
                **facts,
            )


def new_email_values(
    kind: str, recipient: str, now: datetime, context: str | None, channel: str = Channel.EMAIL
) -> dict:
    """A new message's columns but its appointment (shared with the booking's Core insert)."""
    sender_domain = current_app.config["MAIL_DEFAULT_SENDER"].rsplit("@", 1)[-1].strip("> ")
    return {
        "kind": kind,
        "channel": channel,
        "recipient": recipient,
        "context": context,
        "message_id": make_msgid(domain=sender_domain or None),
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def withdraw_reminder_emails(session: Session, appointment: Appointment) -> list[int]:
    """Withdraw this booking's reminder emails that have not gone out yet; return the ids of
    their reminders. An email already claimed by a worker (``sending``) cannot be recalled."""
    withdrawn = session.scalars(
        sa.update(OutboundEmail)
        .where(
            OutboundEmail.appointment_id == appointment.id,
            OutboundEmail.reminder_id.is_not(None),
            OutboundEmail.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.WITHDRAWN, last_error=None)
        .returning(OutboundEmail.reminder_id)
        .execution_options(synchronize_session=False)
    )
    return [reminder_id for reminder_id in withdrawn if reminder_id is not None]


def retry_dead(session: Session, email_id: int, now: datetime) -> bool:
    """Give a dead email a fresh set of attempts (it keeps its Message-ID, so a copy that did
    arrive is shown once). False when that email is not dead. The caller commits."""
    revived = session.execute(
        sa.update(OutboundEmail)
        .where(OutboundEmail.id == email_id, OutboundEmail.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, last_error=None)
    )
    return bool(cast(sa.CursorResult, revived).rowcount)


def backoff(attempts: int, base: timedelta = timedelta(minutes=1)) -> timedelta:
    """1, 2, 4, 8 ... times ``OUTBOX_RETRY_BASE`` after each failed attempt, capped at 6 hours."""
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF)


def claim_outbox_batch(session: Session, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Mark up to ``limit`` due rows as ``sending`` for this worker, commit, return their ids."""
    give_up_on_interrupted(session, now)
    ids = claim_due_rows(session, now, limit, lease)
    session.commit()
    return ids


# Written into last_error when a worker stopped while sending a row (its lease ran out).
INTERRUPTED = "interrupted: the sender stopped while sending it"
GAVE_UP = (
    "stopped twice while sending it: something in this email may stop the sender. Check "
    "it before sending it again"
)


def give_up_on_interrupted(session: Session, now: datetime) -> None:
    """Rows whose lease ran out: a worker died (or was killed) while sending them. The first
    time, the row is marked and sent again; the second time it is ``dead``, so a message that
    stops the sender every time is not retried forever and staff see it in the email log and
    on their home page."""
    expired = sa.and_(
        OutboundEmail.status == OutboxStatus.SENDING, OutboundEmail.lease_expires_at <= now
    )
    session.execute(
        sa.update(OutboundEmail)
        .where(expired, OutboundEmail.last_error == INTERRUPTED)
        .values(status=OutboxStatus.DEAD, last_error=GAVE_UP, lease_expires_at=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        sa.update(OutboundEmail)
        .where(
            expired,
            sa.or_(OutboundEmail.last_error.is_(None), OutboundEmail.last_error != INTERRUPTED),
        )
        .values(last_error=INTERRUPTED)
        .execution_options(synchronize_session=False)
    )


def claim_due_rows(session: Session, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """The claim itself, in the caller's transaction: due rows, and rows whose lease ran out."""
    return take_due(
        session,
        OutboundEmail,
        due=sa.or_(
            sa.and_(
                OutboundEmail.status == OutboxStatus.PENDING, OutboundEmail.next_attempt_at <= now
            ),
            sa.and_(
                OutboundEmail.status == OutboxStatus.SENDING, OutboundEmail.lease_expires_at <= now
            ),
        ),
        order_by=(OutboundEmail.next_attempt_at, OutboundEmail.id),
        limit=limit,
        values={
            "status": OutboxStatus.SENDING,
            "lease_expires_at": now + lease,
            "attempts": OutboundEmail.attempts + 1,
        },
    )


class TimeoutConnection(Connection):
    """Flask-Mail's connection, with the socket timeout it does not set by itself.

    Without it a silent SMTP server would hang the worker forever, holding its leases. The
    server settings are read from the app's config at each connection, not once at start-up.
    """

    def configure_host(self):
        config = current_app.config
        server, port = config["MAIL_SERVER"], config["MAIL_PORT"]
        timeout = config["MAIL_TIMEOUT"].total_seconds()
        if config["MAIL_USE_SSL"]:
            host = smtplib.SMTP_SSL(server, port, timeout=timeout)
        else:
            host = smtplib.SMTP(server, port, timeout=timeout)
        if config["MAIL_USE_TLS"]:
            host.starttls()
        if config["MAIL_USERNAME"] and config["MAIL_PASSWORD"]:
            host.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        return host

    def __exit__(self, exc_type, exc_value, tb):
        # The server may already have dropped us; what was sent is recorded either way.
        try:
            super().__exit__(exc_type, exc_value, tb)
        except (OSError, smtplib.SMTPException):
            pass


def build_message(row: OutboundEmail, discreet: bool = False) -> bytes:
    """The message as sent (see :mod:`booking.messages.mime`); ``ValueError`` when it cannot be.
    A discreet reader's email comes from the clinic's neutral name."""
    config = current_app.config
    sender = _display(config["MAIL_DEFAULT_SENDER"], config["CLINIC_NAME"])
    if discreet:
        sender = _display(
            parseaddr(config["MAIL_DEFAULT_SENDER"])[1], config["CLINIC_NEUTRAL_NAME"]
        )
    return message_bytes(
        sender=sender,
        recipient=row.recipient,
        reply_to=config["CLINIC_EMAIL"],
        subject=row.subject or "",
        message_id=row.message_id,
        text=row.body_text or "",
        html=row.body_html or "",
        ics=row.ics,
    )


def _display(address: str, default_name: str = "") -> str:
    """``Name <addr>`` with a non-ASCII name encoded; the address must be ASCII. A sender
    without a name gets the clinic's: a patient looks for the clinic in their inbox, not for
    an address."""
    name, addr = parseaddr(address)
    name = name or default_name
    return formataddr((name, addr), charset="utf-8") if name else addr


@dataclass
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0


@dataclass
class _Claimed:
    """What the sender needs of a claimed row, read once before the connection opens."""

    id: int
    kind: str
    attempts: int
    recipient: str
    message: bytes | None  # None when it could not be built; such a row is never sent
    channel: str = Channel.EMAIL
    text: dict | None = None  # a WhatsApp or SMS text: what the provider is sent


def _mark_sent(session: Session, ids: list[int]) -> None:
    if ids:
        session.execute(
            sa.update(OutboundEmail)
            .where(OutboundEmail.id.in_(ids))
            .values(
                status=OutboxStatus.SENT, sent_at=now_utc(), lease_expires_at=None, last_error=None
            )
        )
        session.commit()
        ids.clear()


def _mark_failed(
    session: Session,
    items: list[_Claimed],
    error: Exception,
    now: datetime,
    report: DispatchReport,
) -> None:
    """Schedule another attempt with backoff, or give up (``dead``) after the last one."""
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    last_error = f"{type(error).__name__}: {error}"[:500]
    for item in items:
        values: dict[str, Any] = {"last_error": last_error, "lease_expires_at": None}
        if item.attempts >= max_attempts:
            values["status"] = OutboxStatus.DEAD
            report.dead += 1
            log.warning(
                "email %s (%s) is dead after %s attempts", item.id, item.kind, item.attempts
            )
        else:
            values["status"] = OutboxStatus.PENDING
            values["next_attempt_at"] = now + backoff(
                item.attempts, current_app.config["OUTBOX_RETRY_BASE"]
            )
            report.retried += 1
        session.execute(
            sa.update(OutboundEmail).where(OutboundEmail.id == item.id).values(**values)
        )
    session.commit()


def _write_now(session: Session, row: OutboundEmail, context: str | None, now: datetime) -> Email:
    """Write an unwritten row; if that fails, nothing it added (a manage token) is kept."""
    try:
        email = write(session, row, read_facts(decrypt(context) if context else None), now)
        session.flush()
    except Exception:
        for added in list(session.new):
            session.expunge(added)
        raise
    return email


def dispatch_outbox(session: Session, now: datetime | None = None) -> DispatchReport:
    """Claim one batch of due emails and send it over one SMTP connection."""
    config = current_app.config
    now = now or now_utc()
    report = DispatchReport()
    ids = claim_outbox_batch(session, now, config["OUTBOX_BATCH_SIZE"], config["OUTBOX_LEASE"])
    report.claimed = len(ids)
    if ids:
        items = prepare_batch(session, ids, now, report)
        emails = [item for item in items if item.channel == Channel.EMAIL]
        if emails:
            send_batch(session, emails, now, report)
        texts = [item for item in items if item.channel != Channel.EMAIL]
        if texts:
            send_texts(session, texts, now, report)
    return report


def prepare_batch(
    session: Session, ids: list[int], now: datetime, report: DispatchReport
) -> list[_Claimed]:
    """The claimed rows as messages ready to send: unwritten ones written now (and kept),
    stored bodies (a retry) decrypted. A row with nothing left to tell is withdrawn; a row
    that cannot be read or written fails alone, counting an attempt."""
    # The bodies are read as stored and decrypted row by row: one that cannot be decrypted
    # (a key removed too early, a damaged value) then fails alone like any malformed row.
    text_col, html_col, ics_col, context_col = (sa.type_coerce(c, sa.Text) for c in ENCRYPTED)
    rows = session.execute(
        sa.select(OutboundEmail, text_col, html_col, ics_col, context_col)
        .where(OutboundEmail.id.in_(ids))
        .options(*(so.defer(column) for column in ENCRYPTED))
        .order_by(OutboundEmail.id)
    ).all()
    items, broken, gone = [], [], []
    for row, stored_text, stored_html, stored_ics, context in rows:
        try:
            if stored_text is None:  # not written yet: written now, and kept
                email = _write_now(session, row, context, now)
                bodies: tuple[str | None, ...] = (email.text, email.html, email.ics)
            else:
                bodies = (decrypt(stored_text), decrypt(stored_html), decrypt(stored_ics))
            if row.channel != Channel.EMAIL:  # a text: what the provider is to be sent
                text = {"subject": row.subject, **json.loads(bodies[1] or "{}")}
                items.append(
                    _Claimed(row.id, row.kind, row.attempts, row.recipient, None, row.channel, text)
                )
                continue
            plain = OutboundEmail(
                kind=row.kind,
                recipient=row.recipient,
                subject=row.subject,
                message_id=row.message_id,
                body_text=bodies[0],
                body_html=bodies[1],
                ics=bodies[2],
            )
            discreet = is_discreet_copy(row, read_facts(decrypt(context) if context else None))
            items.append(
                _Claimed(
                    row.id, row.kind, row.attempts, row.recipient, build_message(plain, discreet)
                )
            )
        except NothingToWrite:
            gone.append(row.id)
        except Exception as error:  # one malformed row must not hold back the batch
            broken.append((_Claimed(row.id, row.kind, row.attempts, row.recipient, None), error))
    if gone:
        session.execute(
            sa.update(OutboundEmail)
            .where(OutboundEmail.id.in_(gone))
            .values(status=OutboxStatus.WITHDRAWN, lease_expires_at=None)
        )
    session.commit()  # keeps what was written; each result below is its own short transaction
    for item, failure in broken:
        _mark_failed(session, [item], failure, now, report)
    return items


def send_batch(
    session: Session, items: list[_Claimed], now: datetime, report: DispatchReport
) -> None:
    """Send prepared messages over one SMTP connection, marking each as the server answers."""
    config = current_app.config
    connection = TimeoutConnection(current_app.extensions["mail"])
    try:
        connection.__enter__()
    except (OSError, smtplib.SMTPException) as error:
        log.warning("SMTP server unreachable, %s emails wait: %s", len(items), type(error).__name__)
        _mark_failed(session, items, error, now, report)
        return

    sent: list[int] = []
    sender = parseaddr(config["MAIL_DEFAULT_SENDER"])[1]
    host = cast(smtplib.SMTP, connection.host)  # set by __enter__ above
    try:
        for index, item in enumerate(items):
            try:
                host.sendmail(sender, [item.recipient], cast(bytes, item.message))
            except (
                smtplib.SMTPRecipientsRefused,
                smtplib.SMTPDataError,
                smtplib.SMTPSenderRefused,
            ) as error:
                # This message was refused; the connection is still good for the rest.
                _mark_failed(session, [item], error, now, report)
                continue
            except (OSError, smtplib.SMTPException) as error:
                # The connection broke: this row and the rest of the batch try again later.
                _mark_failed(session, items[index:], error, now, report)
                break
            except Exception as error:
                # Anything else went wrong with this message alone (an address the mail library
                # cannot encode, say) before it reached the server: it fails alone and counts
                # an attempt, instead of leaving the whole batch "sending" to be claimed again.
                _mark_failed(session, [item], error, now, report)
                continue
            # Recorded before the next message goes: a worker killed with -9 re-sent 9 of 30
            # when rows were marked in groups; now at most the one the server was accepting.
            sent.append(item.id)
            report.sent += 1
            _mark_sent(session, sent)
    finally:
        _mark_sent(session, sent)
        connection.__exit__(None, None, None)


def send_texts(
    session: Session, items: list[_Claimed], now: datetime, report: DispatchReport
) -> None:
    """Send prepared WhatsApp and SMS texts one request each, recording each as the provider
    answers: ``sent`` with the provider's id (its delivery comes back by webhook), a retry
    with backoff, or, when the provider says the number cannot get that channel, the channel
    turned off for the number and the text sent on the next one (WhatsApp, then SMS; email
    always went)."""
    for item in items:
        text = cast(dict, item.text)
        try:
            if item.channel == Channel.WHATSAPP and "template" in text:
                template = WhatsAppTemplate(
                    text["template"], text["language"], text["variables"], text["buttons"]
                )
                provider_id = send_whatsapp(item.recipient, template, _reference(session, item))
            elif item.channel == Channel.WHATSAPP:
                provider_id = send_whatsapp_text(item.recipient, text["text"])
            else:
                provider_id = send_sms(item.recipient, text["text"])
        except TextFailed as failure:
            if failure.for_this_number:
                not_reachable_on(session, item.id, str(failure), now)
                report.dead += 1
            else:
                _mark_failed(session, [item], failure, now, report)
            continue
        session.execute(
            sa.update(OutboundEmail)
            .where(OutboundEmail.id == item.id)
            .values(
                status=OutboxStatus.SENT,
                sent_at=now_utc(),
                lease_expires_at=None,
                last_error=None,
                provider_id=provider_id,
                delivery=Delivery.SENT,
            )
        )
        session.commit()  # at once: the provider's status webhook names this id
        report.sent += 1


def _reference(session: Session, item: _Claimed) -> str:
    """The booking's reference, which a reminder's quick replies carry back."""
    reference = session.scalar(
        sa.select(Appointment.reference)
        .join(OutboundEmail, OutboundEmail.appointment_id == Appointment.id)
        .where(OutboundEmail.id == item.id)
    )
    return reference or ""


def not_reachable_on(session: Session, row_id: int, why: str, now: datetime) -> None:
    """The provider says this row's number cannot get its channel: turn that channel off for
    the number (staff see why), withdraw the row, and queue the same text on the next channel
    when there is one. The reader's email went anyway."""
    row = session.get_one(OutboundEmail, row_id)
    reason = "not on WhatsApp" if row.channel == Channel.WHATSAPP else "cannot get SMS"
    fallback = requeue_on_next_channel(session, row, reason, now)
    row.status = OutboxStatus.WITHDRAWN if fallback else OutboxStatus.DEAD
    row.lease_expires_at = None
    row.last_error = f"{reason}: {why}"[:480] + ("; sent by SMS instead" if fallback else "")
    session.commit()


def requeue_on_next_channel(session: Session, row: OutboundEmail, reason: str, now) -> bool:
    """Turn the row's channel off for its number, and queue the same text by SMS when the
    row was on WhatsApp and SMS is open. True when it was queued again. The caller commits."""
    turn_off(session, row.recipient, Channel(row.channel), reason, now)
    if row.channel != Channel.WHATSAPP or row.kind == MessageKind.CHANGE_LINK:
        return False
    if text_channel(session, Channel.WHATSAPP, row.recipient) != Channel.SMS:
        return False
    session.add(
        OutboundEmail(
            appointment_id=row.appointment_id,
            reminder_id=row.reminder_id,
            **new_email_values(row.kind, row.recipient, now, row.context, Channel.SMS),
        )
    )
    return True
