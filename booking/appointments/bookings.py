"""Booking a consult: one transaction writes everything, or nothing.

The appointment, its intake, its reminder rows, the two outbox emails and the audit event are
committed together. Double booking is prevented by the database (the partial unique index on
consultant and start time), not by a check-then-insert that two requests could both pass: when
the index fires, the next free consultant at that time is tried, and when there is none the
caller gets :class:`SlotTaken` and re-offers other times with the patient's answers kept.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from types import SimpleNamespace
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app

from ..core.audit import Actor, event_values
from ..core.models import Appointment, SlotClaim
from ..core.statuses import AppointmentStatus, Channel, MessageKind
from ..core.timeutil import UTCDateTime
from ..extensions import Session
from ..intake.choices import INSURED_ROUTES
from ..intake.urgent_call_backs import new_case_values
from ..messages.channels import channels_off_for, first_open
from ..messages.readers import default_messages_to, readers
from ..messages.reminders import reminder_plan
from ..privacy.notice import NOTICE_VERSION
from ..scheduling.availability import SlotRules, slot_rules
from ..scheduling.chosen_time import consultants_free_at
from ..scheduling.holds import clear_expired, end_read_before_write, held_claim, release_holds
from .booking_write import BookingRows, HoldGone, write
from .video import new_video_link

log = logging.getLogger(__name__)

REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read aloud on phones


class SlotTaken(Exception):
    """Every consultant free at the chosen time was taken by another booking."""


class AlreadyBooked(Exception):
    """This email already has an active booking at this time (the Back button, then Book)."""

    def __init__(self, appointment: Appointment):
        super().__init__(appointment.reference)
        self.appointment = appointment


class TooManyBookings(Exception):
    """The email address already has as many upcoming consults as one person may hold.

    Carries the latest of them, so the refusal can be recorded where staff will see it: the
    page itself must not tell a stranger that this email belongs to a patient."""

    def __init__(self, latest_id: int, count: int):
        super().__init__(f"{count} upcoming")
        self.latest_id = latest_id
        self.count = count


@dataclass
class BookingRequest:
    """The patient's answers, already validated and normalised by the form."""

    submission_key: str
    starts_at: datetime
    patient_timezone: str
    booked_by: str
    patient_name: str
    patient_email: str
    patient_phone: str
    preferred_channel: str
    cancer_type: str
    stage: str
    diagnosed: str
    treatments: list[str]
    urgent: bool
    consult_mode: str
    consent_health: bool
    consent_reminders: bool
    booker_name: str | None = None
    booker_relationship: str | None = None
    booker_email: str | None = None
    booker_phone: str | None = None
    patient_agrees: str | None = None
    # Who gets the messages (statuses.Reader); empty: the default for who booked and whether
    # the patient knows (readers.default_messages_to).
    messages_to: str | None = None
    # The zone the relative booked in, and how they want to be reached, for their messages.
    relative_timezone: str | None = None
    relative_channel: str | None = None
    # ISO date; empty only for bookings made by code that does not ask (tests of old paths).
    birth_date: str | None = None
    therapy: str | None = None
    payment_routes: list[str] = field(default_factory=list)
    state_scheme: str | None = None
    tpa: str | None = None
    policy_after_diagnosis: str | None = None
    cost_help: bool = False
    cancer_type_other: str | None = None
    diagnosis_details: str | None = None
    treatment_details: str | None = None
    insurer: str | None = None
    policy_holder: str | None = None
    own_questions: str | None = None
    # The red-flag checklist's codes, or ["none"]; ``urgent`` is true when any flag is ticked.
    red_flags: list[str] = field(default_factory=list)
    ip_address: str | None = None
    # Answers to the questions handled from their definition alone, as their columns keep them
    # (intake/booking_questions.py: treating_hospital, and any added since).
    more_answers: dict[str, Any] = field(default_factory=dict)
    # The hash of the browser's hold key: its hold on ``starts_at`` becomes the booking's claim.
    holder: str | None = None


@dataclass
class BookingResult:
    """The booking made (or found again): its id and reference, which is all the pages that
    answer a booking need; the appointment itself is loaded only when asked for."""

    session: Session = field(repr=False)
    appointment_id: int
    reference: str
    duplicate: bool = False

    @classmethod
    def found(cls, session: Session, appointment: Appointment) -> BookingResult:
        return cls(session, appointment.id, appointment.reference, duplicate=True)

    @property
    def appointment(self) -> Appointment:
        return self.session.get_one(Appointment, self.appointment_id)


def insurance_answer(payment_routes: list[str]) -> str:
    """The old yes/no/not sure insurance answer, derived from the payment routes, so the list's
    insurance filter means the same for bookings made before and after the routes."""
    if set(payment_routes) & INSURED_ROUTES:
        return "yes"
    return "not_sure" if "not_sure" in payment_routes else "no"


def new_reference() -> str:
    return "CT-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def find_by_submission(session: Session, submission_key: str) -> Appointment | None:
    return session.scalar(
        sa.select(Appointment).where(Appointment.submission_key == submission_key)
    )


def rows_for(
    request: BookingRequest,
    consultant_id: int,
    now: datetime,
    actor: Actor,
    rules: SlotRules,
    hold_id: int | None = None,
    off: dict[str, dict[str, str]] | None = None,
) -> BookingRows:
    """The booking's rows, ready to write: with the browser's hold (``hold_id``) turned into
    the booking's claim, or a new claim on the consultant's time."""
    config = current_app.config
    video = request.consult_mode == "video"
    caregiver = request.booked_by == "caregiver"
    off = off or {}  # the channels turned off for the readers' numbers
    appointment = {
        "reference": new_reference(),
        "consultant_id": consultant_id,
        "starts_at": request.starts_at,
        "ends_at": request.starts_at + rules.consult,
        "status": AppointmentStatus.CONFIRMED,
        "urgent": request.urgent,
        "consult_mode": request.consult_mode,
        "patient_name": request.patient_name,
        "patient_email": request.patient_email,
        "patient_phone": request.patient_phone,
        "preferred_channel": request.preferred_channel,
        "patient_timezone": request.patient_timezone,
        "booked_by": request.booked_by,
        "booker_name": request.booker_name,
        "booker_relationship": request.booker_relationship,
        "booker_email": request.booker_email,
        "booker_phone": request.booker_phone,
        "patient_agrees": request.patient_agrees,
        "messages_to": request.messages_to
        or default_messages_to(
            request.booked_by,
            request.patient_agrees,
            request.more_answers.get("knows_diagnosis"),
        ),
        "relative_timezone": request.relative_timezone if caregiver else None,
        "relative_channel": request.relative_channel if caregiver else None,
        "consent_health_at": now,
        "consent_health_version": NOTICE_VERSION,
        "consent_reminders": request.consent_reminders,
        "consent_reminders_at": now if request.consent_reminders else None,
        "consent_reminders_version": NOTICE_VERSION if request.consent_reminders else None,
        "version": 0,
        "submission_key": request.submission_key,
        "created_at": now,
        # A video consult's meeting room, made with the booking (the consultant is told).
        "video_link": new_video_link() if video else None,
    }
    intake = {
        "cancer_type": request.cancer_type,
        "cancer_type_other": request.cancer_type_other,
        "stage": request.stage,
        "diagnosed": request.diagnosed,
        "diagnosis_details": request.diagnosis_details,
        "treatments": ",".join(request.treatments),
        "treatment_details": request.treatment_details,
        "has_insurance": insurance_answer(request.payment_routes),
        "payment_routes": ",".join(request.payment_routes) or None,
        "state_scheme": request.state_scheme,
        "insurer": request.insurer,
        "tpa": request.tpa,
        "policy_holder": request.policy_holder,
        "policy_after_diagnosis": request.policy_after_diagnosis,
        "cost_help": request.cost_help,
        "birth_date": request.birth_date,
        "therapy": request.therapy,
        "own_questions": request.own_questions,
        "red_flags": ",".join(request.red_flags) or None,
        **request.more_answers,
    }
    # The emails are written by the worker when it sends them: this request only adds rows.
    # The confirmation goes to whoever reads this booking's messages, each in their own voice
    # and with a manage link of their own (messages/readers.py).
    # A reader whose channel is WhatsApp or SMS gets a short text too (messages/channels.py).
    emails: list[tuple[MessageKind, str, dict, str]] = []
    knows = SimpleNamespace(knows_diagnosis=intake.get("knows_diagnosis"))
    as_written = SimpleNamespace(**appointment, intake=knows)
    for reader in readers(cast(Appointment, as_written)):
        facts = {"reader": reader.role}
        emails.append((MessageKind.CONFIRMATION, reader.email, facts, Channel.EMAIL))
        channel = first_open(reader.channel, off.get(reader.phone, {}))
        if channel is not None:
            emails.append((MessageKind.CONFIRMATION, reader.phone, facts, channel))
    emails += [
        (MessageKind.STAFF_NEW_BOOKING, recipient, {}, Channel.EMAIL)
        for recipient in config["STAFF_NOTIFY_EMAILS"]
    ]
    # A booking taken by phone says so: staff booked it for the patient.
    action = "booked_by_staff" if actor.is_staff else "booked"
    return BookingRows(
        consultant_id=consultant_id,
        appointment=appointment,
        intake=intake,
        reminders=reminder_plan(
            request.starts_at, request.consent_reminders, now, config["REMINDER_OFFSETS"]
        ),
        audit=event_values(action, now, actor),
        emails=emails,
        urgent_case=new_case_values(now) if request.urgent else None,
        hold_id=hold_id,
        holder=request.holder if hold_id is not None else None,
    )


@dataclass
class Checked:
    """What the form's check of the chosen time found, handed to the booking so that it does
    not look again: this browser's hold on that time (its claim's id and consultant), or the
    consultants free then. A change since is caught by the write like any other race."""

    hold: tuple[int, int] | None = None
    free: list[int] | None = None


def book_and_commit(
    session: Session,
    request: BookingRequest,
    now: datetime,
    rules: SlotRules | None = None,
    actor: Actor | None = None,
    checked: Checked | None = None,
) -> BookingResult:
    """Book the chosen time with a free consultant and commit, or raise :class:`SlotTaken`.

    ``rules`` default to the clinic's (staff booking for a caller pass theirs: no minimum
    notice); ``actor`` to the patient at the request's address; ``checked`` is what the
    form's check of the time found in this request.

    This function commits (unlike most domain functions) because its retry loop has to: a
    failed insert poisons the transaction, so each consultant is tried in a fresh one.
    The form that was already submitted once is recognised by its submission key.
    """
    rules = rules or slot_rules(current_app.config)
    actor = actor or Actor.patient(request.ip_address)
    checked = checked or Checked()
    existing = _check_earlier_bookings(session, request, now)
    if existing is not None:
        return existing

    # Read now, before the write: which channels the readers' numbers turned off.
    off = channels_off_for(session, [p for p in (request.patient_phone, request.booker_phone) if p])
    if request.holder:
        end_read_before_write(session)
        hold = checked.hold
        for _ in range(3):  # a new reference on the rare chance of a collision
            if hold is None:
                found = held_claim(session, request.holder, request.starts_at)
                hold = (found.id, found.consultant_id) if found is not None else None
            if hold is None:  # no hold, or it expired and someone else took the time meanwhile
                break
            hold_id, consultant_id = hold
            try:
                rows = rows_for(request, consultant_id, now, actor, rules, hold_id, off)
                return _commit(session, rows, now)
            except (sa.exc.IntegrityError, HoldGone):
                session.rollback()
                hold = None

    candidates = checked.free
    if candidates is None:
        candidates = consultants_free_at(session, rules, now, request.starts_at, request.holder)
    end_read_before_write(session)
    for consultant_id in candidates:
        for _ in range(3):
            release_holds(session, request.holder)  # a hold on another time goes
            try:
                rows = rows_for(request, consultant_id, now, actor, rules, off=off)
                return _commit(session, rows, now)
            except sa.exc.IntegrityError:
                session.rollback()
                sent_before = find_by_submission(session, request.submission_key)
                if sent_before is not None:
                    return BookingResult.found(session, sent_before)
                # An expired hold in the way blocks nobody: it goes, and the claim is tried
                # again (on the rare conflict only, so a booking costs no DELETE).
                if clear_expired(session, consultant_id, request.starts_at, now):
                    session.commit()
                    continue
                if _consultant_taken(session, consultant_id, request.starts_at):
                    break
    raise SlotTaken()


@cache
def _earlier_statement() -> sa.CompoundSelect:
    """Built once, so that SQLAlchemy reuses its compiled form on every booking. Two parts, so
    that each reads its own index (the form's key; the email), also while the planner's
    statistics lag behind a table that grew fast."""
    columns = (
        Appointment.id,
        Appointment.reference,
        Appointment.submission_key,
        Appointment.starts_at,
        Appointment.status,
    )
    return sa.union_all(
        sa.select(*columns).where(Appointment.submission_key == sa.bindparam("submission_key")),
        sa.select(*columns).where(
            Appointment.patient_email == sa.bindparam("email"),
            Appointment.ends_at > sa.bindparam("now", type_=UTCDateTime()),
        ),
    )


def _check_earlier_bookings(
    session: Session, request: BookingRequest, now: datetime
) -> BookingResult | None:
    """One query for the three things an earlier booking can mean: this form was already sent
    (returned: show that booking), this email already has this time (:class:`AlreadyBooked`:
    the Back button, then Book), or this email holds as many upcoming consults as one may."""
    earlier = (
        session.connection()
        .execute(
            _earlier_statement(),
            {"submission_key": request.submission_key, "email": request.patient_email, "now": now},
        )
        .all()
    )
    for row in earlier:
        if row.submission_key == request.submission_key:
            return BookingResult(session, row.id, row.reference, duplicate=True)
    upcoming = [row for row in earlier if row.status == AppointmentStatus.CONFIRMED]
    for row in upcoming:
        if row.starts_at == request.starts_at:
            raise AlreadyBooked(session.get_one(Appointment, row.id))
    if len(upcoming) >= current_app.config["MAX_BOOKINGS_PER_EMAIL"]:
        raise TooManyBookings(max(row.id for row in upcoming), len(upcoming))
    return None


def _commit(session: Session, rows: BookingRows, now: datetime) -> BookingResult:
    """Write the booking's rows and commit. Nothing is loaded again after the commit."""
    appointment_id = write(session.connection(), rows, now)
    session.commit()
    reference = rows.appointment["reference"]
    log.info("booking %s made", reference)
    return BookingResult(session, appointment_id, reference)


def _consultant_taken(session: Session, consultant_id: int, starts_at: datetime) -> bool:
    """Whether the consultant's time is claimed (a booking, or a hold) or booked."""
    claimed = sa.select(SlotClaim.id).where(
        SlotClaim.consultant_id == consultant_id, SlotClaim.starts_at == starts_at
    )
    booked = sa.select(Appointment.id).where(
        Appointment.consultant_id == consultant_id,
        Appointment.starts_at == starts_at,
        Appointment.status != AppointmentStatus.CANCELLED,
    )
    return bool(session.scalar(sa.select(sa.exists(claimed) | sa.exists(booked))))
