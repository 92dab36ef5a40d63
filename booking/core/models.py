"""Typed models. Times are aware UTC (``UTCDateTime``); free text is ``EncryptedText``."""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_login import UserMixin

from ..extensions import Model
from ..intake.birth_dates import Born
from ..intake.booking_questions import DEFINED_ONLY
from . import statuses
from .crypto import EncryptedText
from .statuses import (
    ActorKind,
    AppointmentStatus,
    CallBackOutcome,
    Channel,
    MessageKind,
    OfferStatus,
    OutboxStatus,
    QuestionnaireStatus,
    Reader,
    ReminderStatus,
    StaffRole,
    WaitlistStatus,
    check_in,
)
from .timeutil import UTCDateTime, now_utc

ACTIVE_STATUSES = statuses.ACTIVE_STATUSES


class StaffUser(UserMixin, Model):
    __tablename__ = "staff_user"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(255))
    role: so.Mapped[str] = so.mapped_column(sa.String(10), default=StaffRole.STAFF)
    is_consultant: so.Mapped[bool] = so.mapped_column(default=False)
    # A clinician approves clinical text before patients see it (intake/clinical_review.py).
    is_clinician: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Bumped on sign-out and password change: a cookie carrying an older version is refused.
    session_version: so.Mapped[int] = so.mapped_column(default=1)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc)
    # Two-factor sign-in (staff_accounts/two_factor.py): the TOTP secret, encrypted; when it was
    # confirmed with a first code (until then the account is still setting it up); and the
    # last time step accepted, so a code is never accepted twice.
    totp_secret: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    totp_confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    totp_last_step: so.Mapped[int | None] = so.mapped_column(sa.BigInteger())
    # A temporary password (new account, reset) must be replaced at the next sign-in.
    must_change_password: so.Mapped[bool] = so.mapped_column(
        default=False, server_default=sa.false()
    )

    hours: so.Mapped[list[WeeklyHours]] = so.relationship(
        back_populates="consultant", cascade="all, delete-orphan"
    )

    __table_args__ = (check_in("role", StaffRole, "role"),)

    def get_id(self) -> str:
        """The session cookie's user id carries the session version (staff_accounts/accounts.py)."""
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == StaffRole.ADMIN


class RecoveryCode(Model):
    """One of a staff member's single-use recovery codes, for a lost phone: only its hash."""

    __tablename__ = "recovery_code"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    staff_user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    code_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    used_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())


class WeeklyHours(Model):
    """One block of working hours on one weekday, in the clinic's time zone."""

    __tablename__ = "weekly_hours"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id"), index=True)
    weekday: so.Mapped[int] = so.mapped_column()  # Monday is 0, as in datetime.weekday()
    start_time: so.Mapped[time] = so.mapped_column(sa.Time())
    end_time: so.Mapped[time] = so.mapped_column(sa.Time())

    consultant: so.Mapped[StaffUser] = so.relationship(back_populates="hours")

    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        sa.CheckConstraint("start_time < end_time", name="order"),
    )


class TimeOff(Model):
    """A consultant away, or the whole clinic closed when ``consultant_id`` is empty."""

    __tablename__ = "time_off"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultant_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("staff_user.id"), index=True
    )
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True)
    reason: so.Mapped[str] = so.mapped_column(sa.String(200), default="")


class Appointment(Model):
    __tablename__ = "appointment"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    reference: so.Mapped[str] = so.mapped_column(sa.String(12), unique=True)
    consultant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id"))
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True)
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    status: so.Mapped[str] = so.mapped_column(sa.String(12), default=AppointmentStatus.CONFIRMED)
    urgent: so.Mapped[bool] = so.mapped_column(default=False)
    consult_mode: so.Mapped[str] = so.mapped_column(sa.String(12))

    patient_name: so.Mapped[str] = so.mapped_column(sa.String(120))
    patient_email: so.Mapped[str] = so.mapped_column(sa.String(254), index=True)
    patient_phone: so.Mapped[str] = so.mapped_column(sa.String(20))
    preferred_channel: so.Mapped[str] = so.mapped_column(sa.String(10))
    patient_timezone: so.Mapped[str] = so.mapped_column(sa.String(64))
    booked_by: so.Mapped[str] = so.mapped_column(sa.String(10))
    booker_name: so.Mapped[str | None] = so.mapped_column(sa.String(120))
    booker_relationship: so.Mapped[str | None] = so.mapped_column(sa.String(60))
    # A caregiver's own contact details, and whether the patient knows and agrees (codes from
    # choices.PATIENT_AGREES). Empty when the patient booked, and for bookings made earlier.
    booker_email: so.Mapped[str | None] = so.mapped_column(sa.String(254))
    booker_phone: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    patient_agrees: so.Mapped[str | None] = so.mapped_column(sa.String(15))
    # Who gets the messages and calls about the consult (statuses.Reader): the patient, the
    # relative who booked, or both. A relative's messages show times in their own zone.
    messages_to: so.Mapped[str] = so.mapped_column(
        sa.String(10), default=Reader.PATIENT, server_default=Reader.PATIENT.value
    )
    relative_timezone: so.Mapped[str | None] = so.mapped_column(sa.String(64))
    # How the relative wants to be reached (choices.CHANNELS); email only when empty.
    relative_channel: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    # A reply to a WhatsApp reminder: "attending" or "change", and when it came.
    attendance: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    attendance_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Set when staff change an email or phone: "See and download everything" stays shut on
    # every link until the desk has confirmed the change with the patient by phone.
    data_held_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    consent_health_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    consent_reminders: so.Mapped[bool] = so.mapped_column(default=False)
    consent_reminders_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # The privacy notice version (privacy/notice.py) each consent was given against; empty
    # for consents given before the notice had versions.
    consent_health_version: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    consent_reminders_version: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    consent_health_withdrawn_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    consent_reminders_withdrawn_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Set when the booking's personal data was erased (booking/erasure.py): the row keeps only
    # the reference, times, consultant, status and this marker. It has no intake then.
    erased_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), index=True)

    # Bumped on every reschedule; it is the SEQUENCE of the calendar entry.
    version: so.Mapped[int] = so.mapped_column(default=0)
    # The hidden key of the form that made this booking: a second submit finds it.
    submission_key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc)
    cancelled_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    cancel_reason: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    # Names, emails, phone digits and the reference, normalised for the staff search (see
    # booking/search.py); set whenever the booking is written.
    search_text: so.Mapped[str] = so.mapped_column(sa.Text(), default="")
    # A video consult's meeting link (appointments/video.py); empty for phone and WhatsApp calls.
    video_link: so.Mapped[str | None] = so.mapped_column(sa.String(500))

    consultant: so.Mapped[StaffUser] = so.relationship()
    intake: so.Mapped[Intake] = so.relationship(
        back_populates="appointment", cascade="all, delete-orphan"
    )
    reminders: so.Mapped[list[Reminder]] = so.relationship(
        back_populates="appointment", cascade="all, delete-orphan"
    )
    manage_tokens: so.Mapped[list[ManageToken]] = so.relationship(
        back_populates="appointment", cascade="all, delete-orphan"
    )
    urgent_case: so.Mapped[UrgentCase | None] = so.relationship(
        back_populates="appointment", cascade="all, delete-orphan"
    )
    questionnaire: so.Mapped[Questionnaire | None] = so.relationship(
        back_populates="appointment", cascade="all, delete-orphan"
    )
    claim: so.Mapped[SlotClaim | None] = so.relationship(
        back_populates="appointment", cascade="all, delete-orphan"
    )

    __table_args__ = (
        # Double booking is impossible by construction: one active appointment per
        # consultant and start time. The booking code catches the IntegrityError.
        sa.Index(
            "uq_appointment_consultant_start_active",
            "consultant_id",
            "starts_at",
            unique=True,
            sqlite_where=sa.text(f"status != '{AppointmentStatus.CANCELLED}'"),
            postgresql_where=sa.text(f"status != '{AppointmentStatus.CANCELLED}'"),
        ),
        check_in("status", AppointmentStatus, "status"),
        check_in("messages_to", Reader, "messages_to"),
        # The staff list filters on these and always sorts by start time.
        sa.Index("ix_appointment_status_starts_at", "status", "starts_at"),
        sa.Index("ix_appointment_consultant_starts_at", "consultant_id", "starts_at"),
        sa.Index("ix_appointment_urgent_starts_at", "urgent", "starts_at"),
        sa.Index("ix_appointment_patient_phone", "patient_phone"),
        # Trigrams make LIKE '%...%' an index search on PostgreSQL (a plain index on SQLite).
        sa.Index(
            "ix_appointment_search_text",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )


class SlotClaim(Model):
    """A consultant's slot, taken by an active booking or held for one browser.

    One row per consultant and start time (the unique constraint), so a hold and a booking,
    or two holds, can never share a slot: the database decides every race. A hold has a
    holder (the hash of a key in that browser's session) and an expiry; an expired hold
    blocks nobody, because whoever claims the slot next deletes it in the same transaction.
    Booking a held slot turns the hold into the booking's claim.
    """

    __tablename__ = "slot_claim"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    consultant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id"))
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    ends_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    appointment_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    holder_hash: so.Mapped[str | None] = so.mapped_column(sa.String(64), index=True)
    expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc)

    appointment: so.Mapped[Appointment | None] = so.relationship(back_populates="claim")

    __table_args__ = (
        sa.UniqueConstraint("consultant_id", "starts_at"),
        sa.CheckConstraint(
            "(appointment_id IS NULL AND holder_hash IS NOT NULL AND expires_at IS NOT NULL)"
            " OR (appointment_id IS NOT NULL AND holder_hash IS NULL AND expires_at IS NULL)",
            name="hold_or_booking",
        ),
    )


class ManageToken(Model):
    """The hash of one manage link. Each email that carries a link gets its own token, and
    every one stays valid for the life of the booking; the raw token is only in the email."""

    __tablename__ = "manage_token"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    appointment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc)
    # Whose message carried it (statuses.Reader), so a change made with it is told truthfully
    # ("cancelled by Ravi Kumar, the patient's son"); empty for links sent before it was kept.
    reader: so.Mapped[str | None] = so.mapped_column(sa.String(10))

    appointment: so.Mapped[Appointment] = so.relationship(back_populates="manage_tokens")


class Intake(Model):
    """The patient's answers. Categories are plain; free text and identifiers are encrypted."""

    __tablename__ = "intake"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    appointment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    cancer_type: so.Mapped[str] = so.mapped_column(sa.String(20), index=True)
    cancer_type_other: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    stage: so.Mapped[str] = so.mapped_column(sa.String(10))
    diagnosed: so.Mapped[str] = so.mapped_column(sa.String(10))
    diagnosis_details: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    # Comma-separated values from choices.TREATMENTS, e.g. "chemotherapy,interferon".
    treatments: so.Mapped[str] = so.mapped_column(sa.String(200))
    treatment_details: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    # "yes" when a private or employer insurance is among the payment routes, "not_sure" when
    # the patient does not know, else "no"; kept for the list filter and older bookings.
    has_insurance: so.Mapped[str] = so.mapped_column(sa.String(10), index=True)
    # Comma-separated codes from choices.PAYMENT_ROUTES; empty for bookings made before it.
    payment_routes: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    state_scheme: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    tpa: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    policy_after_diagnosis: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    cost_help: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    # ISO date, encrypted: with the name it identifies the patient. Empty on older bookings.
    birth_date: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    # Code from choices.THERAPIES; empty on bookings made before the form asked.
    therapy: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    insurer: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    policy_number: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    policy_holder: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    preauthorisation: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    own_questions: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    # Comma-separated codes from choices.RED_FLAGS ("none" when none was ticked); empty for
    # bookings made before the checklist, which answered one yes/no question.
    red_flags: so.Mapped[str | None] = so.mapped_column(EncryptedText())

    # The columns of the questions handled from their definition alone (treating_hospital,
    # and any added since): made from intake/booking_questions.py, each with its migration.
    for _question in DEFINED_ONLY:
        locals()[_question.name] = so.mapped_column(_question.column_type())
    del _question

    appointment: so.Mapped[Appointment] = so.relationship(back_populates="intake")

    @property
    def treatment_list(self) -> list[str]:
        return [item for item in self.treatments.split(",") if item]

    @property
    def red_flag_list(self) -> list[str]:
        return [item for item in (self.red_flags or "").split(",") if item]

    @property
    def payment_route_list(self) -> list[str]:
        return [item for item in (self.payment_routes or "").split(",") if item]

    @property
    def born(self) -> Born | None:
        """The date of birth, or only the year when the family knows no more."""
        return Born.from_stored(self.birth_date)

    def age_on(self, day: date) -> int | None:
        born = self.born
        return born.age_on(day) if born else None


class Questionnaire(Model):
    """The pre-consult health questionnaire: every answer in one encrypted JSON document.

    The patient can save part-way (``started``) and send it (``done``), and edit it until the
    consult starts. ``follow_up`` names why staff should call (distress of 4 or more, thoughts
    of self-harm) without saying more; it is cleared by staff recording the follow-up.
    """

    __tablename__ = "questionnaire"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    appointment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    status: so.Mapped[str] = so.mapped_column(sa.String(10))
    answers: so.Mapped[str] = so.mapped_column(EncryptedText(), deferred=True)
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    completed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    # Comma-separated codes: "distress", "self_harm". Empty when nothing needs a call.
    follow_up: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    follow_up_done_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    follow_up_done_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_user.id"))

    appointment: so.Mapped[Appointment] = so.relationship(back_populates="questionnaire")
    follow_up_done_by: so.Mapped[StaffUser | None] = so.relationship()

    __table_args__ = (check_in("status", QuestionnaireStatus, "status"),)

    @property
    def needs_follow_up(self) -> bool:
        return bool(self.follow_up) and self.follow_up_done_at is None


class PreVisitQuestion(Model):
    """A question for the consult; blank cancer type and treatment mean "for everyone"."""

    __tablename__ = "previsit_question"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    text: so.Mapped[str] = so.mapped_column(sa.String(500))
    cancer_type: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    # The therapy the patient asks about (choices.THERAPIES); blank means either.
    therapy: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    # A current treatment (choices.TREATMENTS); blank means any.
    treatment: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    position: so.Mapped[int] = so.mapped_column(default=0)
    active: so.Mapped[bool] = so.mapped_column(default=True)
    # Only for patients younger than this on the consult's day (a fertility question); a
    # patient whose age is not known gets it. Empty: every age.
    younger_than: so.Mapped[int | None] = so.mapped_column()
    # What patients are sent: the wording a clinician approved (``text`` is the latest draft).
    # Empty for a question nobody has approved yet, which patients do not get at all.
    approved_text: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    # Who signed the approved wording, and when; empty for wording in use from before the
    # review step, still to be signed.
    approved_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_user.id"))
    approved_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    approved_by: so.Mapped[StaffUser | None] = so.relationship()

    @property
    def has_draft(self) -> bool:
        return self.text != self.approved_text


class Reminder(Model):
    __tablename__ = "reminder"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    appointment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE")
    )
    offset_minutes: so.Mapped[int] = so.mapped_column()
    due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=ReminderStatus.PENDING)
    queued_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    appointment: so.Mapped[Appointment] = so.relationship(back_populates="reminders")

    __table_args__ = (
        sa.UniqueConstraint("appointment_id", "offset_minutes"),
        # The reminder job only ever looks at pending rows by due time.
        sa.Index(
            "ix_reminder_pending_due",
            "due_at",
            sqlite_where=sa.text(f"status = '{ReminderStatus.PENDING}'"),
            postgresql_where=sa.text(f"status = '{ReminderStatus.PENDING}'"),
        ),
        check_in("status", ReminderStatus, "status"),
    )


class OutboundEmail(Model):
    """The outbox: every email is a row first, sent by the worker after the commit."""

    __tablename__ = "outbound_email"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(30))
    appointment_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("appointment.id", ondelete="SET NULL"), index=True
    )
    # A message about a waitlist entry (its confirmation, an offer): it goes with the entry.
    waitlist_entry_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("waitlist_entry.id", ondelete="CASCADE"), index=True
    )
    # email, or a short text on WhatsApp or SMS (statuses.Channel), sent by the same worker.
    channel: so.Mapped[str] = so.mapped_column(
        sa.String(10), default=Channel.EMAIL, server_default=Channel.EMAIL.value
    )
    # For a text: the provider's id of the accepted message, and what it reported since.
    provider_id: so.Mapped[str | None] = so.mapped_column(sa.String(100), unique=True)
    delivery: so.Mapped[str | None] = so.mapped_column(sa.String(10))
    delivery_error: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    # Set on reminder emails, so a reminder still waiting in the outbox can be withdrawn.
    reminder_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("reminder.id", ondelete="SET NULL"), index=True
    )
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254))
    # What the message is written from, recorded by the change that queued it: the booking as
    # it stood then and the change's own facts (booking/messages/writing.py). Encrypted: it
    # can hold names and a waitlist offer's link.
    context: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    # Empty until written: every message is written by the worker when it sends it.
    subject: so.Mapped[str | None] = so.mapped_column(sa.String(200))
    # Bodies can carry the patient's own questions and urgent-care guidance: encrypted.
    body_text: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    body_html: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    ics: so.Mapped[str | None] = so.mapped_column(EncryptedText())
    message_id: so.Mapped[str] = so.mapped_column(sa.String(255), unique=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=OutboxStatus.PENDING)
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc)
    lease_expires_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    last_error: so.Mapped[str | None] = so.mapped_column(sa.String(500))
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc)

    appointment: so.Mapped[Appointment | None] = so.relationship()
    reminder: so.Mapped[Reminder | None] = so.relationship()

    __table_args__ = (
        sa.Index("ix_outbound_email_status_next_attempt_at", "status", "next_attempt_at"),
        check_in("status", OutboxStatus, "status"),
        check_in("kind", MessageKind, "kind"),
        check_in("channel", Channel, "channel"),
    )


class SignInFailure(Model):
    """One wrong password or code: from which client, naming which account (none for an
    unknown email). Kept for the lockout window (staff_accounts/lockout.py), then swept."""

    __tablename__ = "sign_in_failure"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    staff_user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="CASCADE")
    )
    client: so.Mapped[str] = so.mapped_column(sa.String(45))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())

    __table_args__ = (
        sa.Index("ix_sign_in_failure_client_at", "client", "at"),
        sa.Index("ix_sign_in_failure_staff_user_at", "staff_user_id", "at"),
    )


class AuditEvent(Model):
    """Who did what to which appointment, from where. Never the health data itself."""

    __tablename__ = "audit_event"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc, index=True)
    actor: so.Mapped[str] = so.mapped_column(sa.String(10))
    staff_user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_user.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(40))
    appointment_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("appointment.id", ondelete="SET NULL"), index=True
    )
    ip_address: so.Mapped[str | None] = so.mapped_column(sa.String(45))
    # What was acted on when it is not an appointment (an account, a question, an email id);
    # never health data.
    detail: so.Mapped[str | None] = so.mapped_column(sa.String(200))

    appointment: so.Mapped[Appointment | None] = so.relationship()
    staff_user: so.Mapped[StaffUser | None] = so.relationship()

    __table_args__ = (
        sa.Index("ix_audit_event_action_at", "action", "at"),
        check_in("actor", ActorKind, "actor"),
    )


class AppointmentNote(Model):
    """A staff note on an appointment: encrypted, with its author and time."""

    __tablename__ = "appointment_note"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    appointment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    author_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc)
    text: so.Mapped[str] = so.mapped_column(EncryptedText())

    appointment: so.Mapped[Appointment] = so.relationship()
    author: so.Mapped[StaffUser] = so.relationship()


class UrgentCase(Model):
    """An urgent booking waiting for a call-back from staff.

    Open (``closed_at`` empty) until someone records a call that reached the patient. The
    worker escalates an open case by email when ``next_escalation_at`` passes, and moves that
    time on by one period in the same statement, so two workers never send the same one.
    """

    __tablename__ = "urgent_case"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    appointment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), unique=True
    )
    raised_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    closed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())
    closed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("staff_user.id"))
    # Empty once closed; for cases opened before escalation existed it stays empty.
    next_escalation_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), index=True)
    escalations: so.Mapped[int] = so.mapped_column(default=0)

    appointment: so.Mapped[Appointment] = so.relationship(back_populates="urgent_case")
    closed_by: so.Mapped[StaffUser | None] = so.relationship()
    calls: so.Mapped[list[CallBack]] = so.relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CallBack.at"
    )

    __table_args__ = (sa.Index("ix_urgent_case_closed_at_raised_at", "closed_at", "raised_at"),)


class CallBack(Model):
    """One call-back attempt: who called, when, how it went, and an encrypted note."""

    __tablename__ = "call_back"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    case_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("urgent_case.id", ondelete="CASCADE"), index=True
    )
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    staff_user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id"))
    outcome: so.Mapped[str] = so.mapped_column(sa.String(12))
    note: so.Mapped[str | None] = so.mapped_column(EncryptedText())

    case: so.Mapped[UrgentCase] = so.relationship(back_populates="calls")
    staff_user: so.Mapped[StaffUser] = so.relationship()

    __table_args__ = (check_in("outcome", CallBackOutcome, "outcome"),)


class WaitlistEntry(Model):
    """Someone waiting for a time that suits: contact details and when suits, nothing about
    their health (that is asked when they book). The oldest waiting match is offered first."""

    __tablename__ = "waitlist_entry"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    email: so.Mapped[str] = so.mapped_column(sa.String(254), index=True)
    phone: so.Mapped[str] = so.mapped_column(sa.String(20))
    preferred_channel: so.Mapped[str] = so.mapped_column(sa.String(10))
    language: so.Mapped[str] = so.mapped_column(sa.String(10))
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64))
    # Comma-separated: weekdays "0".."6" (Monday is 0) and parts of the day (choices.DAY_PARTS),
    # both in the person's own time zone.
    weekdays: so.Mapped[str] = so.mapped_column(sa.String(20))
    day_parts: so.Mapped[str] = so.mapped_column(sa.String(40))
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=WaitlistStatus.WAITING)
    consent_version: so.Mapped[str | None] = so.mapped_column(sa.String(20))
    ended_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime())

    offers: so.Mapped[list[WaitlistOffer]] = so.relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="WaitlistOffer.created_at"
    )
    # Deleting an entry deletes its links and its messages, in the database.
    links: so.Mapped[list[WaitlistLink]] = so.relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )
    messages: so.Mapped[list[OutboundEmail]] = so.relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        sa.Index("ix_waitlist_entry_status_created_at", "status", "created_at"),
        check_in("status", WaitlistStatus, "status"),
    )

    @property
    def weekday_list(self) -> list[int]:
        return [int(day) for day in self.weekdays.split(",") if day]

    @property
    def day_part_list(self) -> list[str]:
        return [part for part in self.day_parts.split(",") if part]


class WaitlistLink(Model):
    """The hash of one link to a waitlist entry: each message about the entry carries its own,
    to confirm the entry, see it, and leave the list without signing in."""

    __tablename__ = "waitlist_link"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    entry_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("waitlist_entry.id", ondelete="CASCADE"), index=True
    )
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())


class WaitlistOffer(Model):
    """One time offered to one person, held for them until ``expires_at``. Never the same
    time twice to the same person (the unique constraint)."""

    __tablename__ = "waitlist_offer"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    entry_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("waitlist_entry.id", ondelete="CASCADE"), index=True
    )
    starts_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True)
    status: so.Mapped[str] = so.mapped_column(sa.String(10), default=OfferStatus.OPEN)
    appointment_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("appointment.id", ondelete="SET NULL")
    )

    entry: so.Mapped[WaitlistEntry] = so.relationship(back_populates="offers")

    __table_args__ = (
        sa.UniqueConstraint("entry_id", "starts_at"),
        check_in("status", OfferStatus, "status"),
    )


class ScheduleVersion(Model):
    """How often each consultant's bookable time has changed (scope 0: clinic-wide changes).
    The free-time cache is keyed on these; see ``scheduling/schedule_version.py``."""

    __tablename__ = "schedule_version"

    scope: so.Mapped[int] = so.mapped_column(primary_key=True, autoincrement=False)
    version: so.Mapped[int] = so.mapped_column(sa.BigInteger())


class ChannelOff(Model):
    """A phone number that must not get texts on a channel: its owner sent STOP (or chose
    "stop messages"), or WhatsApp said the number is not on WhatsApp. Later messages go by
    the next channel (SMS, then email only), and staff see why."""

    __tablename__ = "channel_off"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    phone: so.Mapped[str] = so.mapped_column(sa.String(20))
    channel: so.Mapped[str] = so.mapped_column(sa.String(10))
    reason: so.Mapped[str] = so.mapped_column(sa.String(100))
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc)

    __table_args__ = (
        sa.UniqueConstraint("phone", "channel"),
        check_in("channel", Channel, "channel"),
    )


class ProviderEvent(Model):
    """Each webhook event already handled (a status or a reply, by the provider's own key):
    providers deliver the same event more than once, and it must count once."""

    __tablename__ = "provider_event"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True)
    received_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=now_utc)


class ClinicalSignOff(Model):
    """A clinician's approval of one version of fixed clinical text (the red-flag checklist,
    the questionnaire, the call-back time): the version is the hash of its content, so any
    change to the words needs signing again."""

    __tablename__ = "clinical_sign_off"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    item: so.Mapped[str] = so.mapped_column(sa.String(40))
    content_hash: so.Mapped[str] = so.mapped_column(sa.String(64))
    approved_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("staff_user.id"))
    approved_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())

    approved_by: so.Mapped[StaffUser] = so.relationship()

    __table_args__ = (sa.UniqueConstraint("item", "content_hash"),)


class BookingDraft(Model):
    """The answers a browser has given so far on the details steps, kept while it holds a
    time: across Back, a reload and a change of time. Encrypted (they are health data), keyed
    by the same hash that names the browser's hold, and gone once booked or expired."""

    __tablename__ = "booking_draft"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    holder_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    # The form's fields as they were sent: a JSON object of field name to list of values.
    answers: so.Mapped[str] = so.mapped_column(EncryptedText())
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True)


class WorkerHeartbeat(Model):
    """When each of the worker's jobs last ran: reminders, urgent escalations and sending all
    rest on the worker, and a worker that died would otherwise be noticed by nobody."""

    __tablename__ = "worker_heartbeat"

    job: so.Mapped[str] = so.mapped_column(sa.String(40), primary_key=True)
    last_run_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime())
