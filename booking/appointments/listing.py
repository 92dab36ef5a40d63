"""The staff list of appointments: filters, search, sort by time, pages, and CSV export.

A page costs two queries whatever its size: a count, and the page itself with its intake and
consultant joined in (no query per row). Every filter has an index behind it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..core.models import Appointment, Intake, Questionnaire
from ..core.statuses import AppointmentStatus, QuestionnaireStatus
from ..core.timeutil import now_utc
from ..extensions import Session
from ..intake import choices
from ..intake.booking_questions import DEFINED_ONLY, Question
from . import search

PAGE_SIZES = (25, 50, 100)


@dataclass
class Filters:
    """What the staff chose in the filter bar; every field optional."""

    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    consultant_id: int | None = None
    cancer_type: str | None = None
    has_insurance: str | None = None
    urgent: bool | None = None
    questionnaire: str | None = None
    q: str | None = None
    page: int = 1
    per_page: int = 25

    @classmethod
    def from_valid(cls, values: dict, errors: dict[str, list[str]], page: int) -> Filters:
        """The filters from a validated filter form's data; a field with an error is ignored
        (and shown with its message), so a bad value never stops the list."""
        kept = {name: value for name, value in values.items() if name not in errors}
        urgent = {"yes": True, "no": False}.get(kept.get("urgent") or "")
        per_page = int(kept.get("per_page") or PAGE_SIZES[0])
        return cls(
            status=kept.get("status") or None,
            date_from=kept.get("date_from"),
            date_to=kept.get("date_to"),
            consultant_id=int(kept["consultant_id"]) if kept.get("consultant_id") else None,
            cancer_type=kept.get("cancer_type") or None,
            has_insurance=kept.get("has_insurance") or None,
            urgent=urgent,
            questionnaire=kept.get("questionnaire") or None,
            q=(kept.get("q") or "").strip()[:100] or None,
            page=page,
            per_page=per_page if per_page in PAGE_SIZES else PAGE_SIZES[0],
        )

    @property
    def shows_health(self) -> bool:
        """Whether the list puts patients' names beside a health category or a search: who
        looked at "everyone with melanoma" is worth an audit event."""
        return bool(
            self.cancer_type or self.has_insurance or self.urgent or self.questionnaire or self.q
        )

    def audit_detail(self) -> str:
        """The filters for an audit event: the codes chosen, and "search" without what was
        typed (a caller's name or number does not belong in a log kept for years)."""
        args = self.query_args(q="(search)" if self.q else None, per_page=None)
        return "; ".join(f"{key}={value}" for key, value in sorted(args.items()))

    def query_args(self, **changes) -> dict[str, str]:
        """The filters as query-string values, for links to other pages of the same list."""
        values = {
            "status": self.status,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "consultant_id": self.consultant_id,
            "cancer_type": self.cancer_type,
            "has_insurance": self.has_insurance,
            "urgent": None if self.urgent is None else ("yes" if self.urgent else "no"),
            "questionnaire": self.questionnaire,
            "q": self.q,
            "per_page": self.per_page if self.per_page != 25 else None,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


# "Not done, consult within 3 days": the desk's list of patients to remind by phone.
DUE_SOON = timedelta(days=3)


def filtered(filters: Filters, clinic_tz: ZoneInfo) -> sa.Select:
    """The select of matching appointments (with their intake and questionnaire state),
    sorted by time."""
    query = (
        sa.select(Appointment)
        # Outer: a booking whose data was erased has no intake and is still listed.
        .outerjoin(Intake, Intake.appointment_id == Appointment.id)
        .outerjoin(Questionnaire, Questionnaire.appointment_id == Appointment.id)
    )
    if filters.status:
        query = query.where(Appointment.status == filters.status)
    if filters.date_from:
        query = query.where(Appointment.starts_at >= _day_start(filters.date_from, clinic_tz))
    if filters.date_to:
        end = _day_start(filters.date_to + timedelta(days=1), clinic_tz)
        query = query.where(Appointment.starts_at < end)
    if filters.consultant_id:
        query = query.where(Appointment.consultant_id == filters.consultant_id)
    if filters.cancer_type:
        query = query.where(Intake.cancer_type == filters.cancer_type)
    if filters.has_insurance:
        query = query.where(Intake.has_insurance == filters.has_insurance)
    if filters.urgent is not None:
        query = query.where(Appointment.urgent.is_(filters.urgent))
    query = _questionnaire_filter(query, filters.questionnaire)
    if filters.q:
        found = search.condition(filters.q)
        if found is not None:
            # SQLite would walk the time index and read every booking's row to test the text;
            # reading the search column's own (much smaller) index instead is several times
            # faster. PostgreSQL chooses its trigram index by itself.
            query = query.where(found).with_hint(
                Appointment, "INDEXED BY ix_appointment_search_text", "sqlite"
            )
    return query.order_by(Appointment.starts_at, Appointment.id)


def _questionnaire_filter(query: sa.Select, wanted: str | None) -> sa.Select:
    not_done = sa.or_(Questionnaire.id.is_(None), Questionnaire.status != QuestionnaireStatus.DONE)
    if wanted == "not_done_soon":
        now = now_utc()
        return query.where(
            not_done,
            Appointment.status == AppointmentStatus.CONFIRMED,
            Appointment.starts_at > now,
            Appointment.starts_at <= now + DUE_SOON,
        )
    if wanted == "not_yet":
        return query.where(Questionnaire.id.is_(None))
    if wanted in (QuestionnaireStatus.STARTED, QuestionnaireStatus.DONE):
        return query.where(Questionnaire.status == wanted)
    return query


# Matching rows are counted up to this many: beyond it the list says "more than 500" and
# pages on without a last page, so a page costs the same at a million rows as at ten thousand.
COUNT_CAP = 500


@dataclass
class Page:
    items: list[Appointment]
    total: int  # at most COUNT_CAP + 1
    page: int
    per_page: int
    has_next: bool

    @property
    def capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def pages(self) -> int | None:
        """The number of pages, or None when there are more matches than are counted."""
        if self.capped:
            return None
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def list_page(session: Session, filters: Filters, clinic_tz: ZoneInfo) -> Page:
    query = filtered(filters, clinic_tz)
    page = filters.page
    items = _page_items(session, query, filters, page)
    if page == 1 and len(items) <= filters.per_page:
        total = len(items)  # everything that matches is on this page: nothing more to count
    else:
        counted = (
            query.with_only_columns(Appointment.id).order_by(None).limit(COUNT_CAP + 1).subquery()
        )
        total = session.scalar(sa.select(sa.func.count()).select_from(counted)) or 0
        last = max((total + filters.per_page - 1) // filters.per_page, 1)
        if total <= COUNT_CAP and page > last:  # a page past the end shows the last one
            page = last
            items = _page_items(session, query, filters, page)
    has_next = len(items) > filters.per_page
    return Page(list(items[: filters.per_page]), total, page, filters.per_page, has_next)


def _page_items(session: Session, query: sa.Select, filters: Filters, page: int) -> list:
    """One page of bookings, and one more to tell whether there is a next page."""
    return list(
        session.scalars(
            query.options(
                so.contains_eager(Appointment.intake),
                so.contains_eager(Appointment.questionnaire),
                so.joinedload(Appointment.consultant),
            )
            .limit(filters.per_page + 1)
            .offset((page - 1) * filters.per_page)
        ).all()
    )


QUESTIONNAIRE_WORDS = [("not_yet", "not yet"), ("started", "started"), ("done", "done")]

# (code column, heading in words, the answer list whose labels the words export shows)
EXPORTED_DEFINED = [question for question in DEFINED_ONLY if question.stored_as != "text"]

CSV_COLUMNS = [
    ("reference", "Reference", None),
    ("starts_at_utc", "Time (UTC)", None),
    ("starts_at_clinic", "Time (clinic)", None),
    ("status", "Status", None),
    ("urgent", "Urgent", None),
    ("consult_mode", "How", choices.CONSULT_MODES),
    ("consultant", "Consultant", None),
    ("patient_name", "Patient", None),
    ("patient_email", "Email", None),
    ("patient_phone", "Phone", None),
    ("preferred_channel", "Prefers", choices.CHANNELS),
    ("patient_timezone", "Patient's time zone", None),
    ("booked_by", "Booked by", choices.BOOKED_BY),
    ("age", "Age at the consult", None),
    ("cancer_type", "Cancer type", choices.CANCER_TYPES),
    ("stage", "Stage", choices.STAGES),
    ("diagnosed", "Diagnosed", choices.DIAGNOSED),
    ("treatments", "Current treatment", choices.TREATMENTS),
    ("therapy", "Asking about", choices.THERAPIES),
    ("payment_routes", "Paying by", choices.PAYMENT_ROUTES),
    ("cost_help", "Needs help with costs", None),
    ("has_insurance", "Insured", choices.YES_NO_UNSURE),
    ("preauthorisation", "Pre-authorisation", None),
    ("questionnaire", "Health questionnaire", QUESTIONNAIRE_WORDS),
    # The questions handled from their definition alone, but free text (never exported).
    *(
        (question.name, question.staff_label, list(question.choices) or None)
        for question in EXPORTED_DEFINED
    ),
]


def export_csv(
    session: Session, filters: Filters, clinic_tz: ZoneInfo, codes: bool = False
) -> tuple[str, int]:
    """Every matching appointment as CSV, without any encrypted free text. Returns the text
    and the row count (for the audit event). By default the headings and answers are the words
    staff see; ``codes`` gives the stored codes, for spreadsheets that expect them. Phone
    numbers stay text either way (a spreadsheet would read +919876543210 as a number)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([code if codes else heading for code, heading, _ in CSV_COLUMNS])
    rows = session.scalars(
        filtered(filters, clinic_tz)
        .options(
            so.contains_eager(Appointment.intake),
            so.contains_eager(Appointment.questionnaire),
            so.joinedload(Appointment.consultant),
        )
        .execution_options(yield_per=1000)
    )
    count = 0
    for appointment in rows:
        values = _csv_values(appointment, clinic_tz)
        if not codes:
            values = {
                code: _words(values[code], answers) if answers else values[code]
                for code, _, answers in CSV_COLUMNS
            }
        writer.writerow([values[code] for code, _, _ in CSV_COLUMNS])
        count += 1
    return buffer.getvalue(), count


def _words(value: str, answers) -> str:
    """A stored code, or a comma-separated list of them, as its label(s)."""
    return "; ".join(choices.label(answers, code) for code in value.split(",") if code)


def _csv_values(appointment: Appointment, clinic_tz: ZoneInfo) -> dict[str, str]:
    questionnaire = appointment.questionnaire
    return {
        "reference": appointment.reference,
        "starts_at_utc": appointment.starts_at.isoformat(),
        "starts_at_clinic": appointment.starts_at.astimezone(clinic_tz).strftime("%Y-%m-%d %H:%M"),
        "status": appointment.status,
        "urgent": "yes" if appointment.urgent else "no",
        "consult_mode": appointment.consult_mode,
        "consultant": appointment.consultant.name,
        "patient_name": _safe_cell(appointment.patient_name),
        "patient_email": _safe_cell(appointment.patient_email),
        # Our own validated E.164 digits, kept as text: ="+919876543210" shows as typed.
        "patient_phone": f'="{appointment.patient_phone}"',
        "preferred_channel": appointment.preferred_channel,
        "patient_timezone": appointment.patient_timezone,
        "booked_by": appointment.booked_by,
        "questionnaire": questionnaire.status if questionnaire else "not_yet",
        **_intake_values(appointment.intake, appointment.starts_at.astimezone(clinic_tz).date()),
    }


def _intake_values(intake: Intake | None, consult_day: date) -> dict[str, str]:
    """The intake's columns; empty for a booking whose health data was erased."""
    if intake is None:
        return dict.fromkeys(INTAKE_CSV_COLUMNS, "")
    born = intake.born
    return {
        # "about 74" when the family knew only the year or the age.
        "age": born.age_in_words(consult_day) if born else "",
        "cancer_type": intake.cancer_type,
        "stage": intake.stage,
        "diagnosed": intake.diagnosed,
        "treatments": intake.treatments,
        "therapy": intake.therapy or "",
        "payment_routes": intake.payment_routes or "",
        "cost_help": "yes" if intake.cost_help else "no",
        "has_insurance": intake.has_insurance,
        "preauthorisation": intake.preauthorisation or "",
        **defined_values(intake, EXPORTED_DEFINED),
    }


def defined_values(intake: Intake, questions: list[Question]) -> dict[str, str]:
    """The stored codes of questions handled from their definition alone, as CSV cells
    ("yes"/"no" for a flag, as ``cost_help`` is written)."""
    values = {}
    for question in questions:
        value = getattr(intake, question.name)
        values[question.name] = ("yes" if value else "no") if isinstance(value, bool) else value
    return {name: value or "" for name, value in values.items()}


INTAKE_CSV_COLUMNS = (
    "age",
    "cancer_type",
    "stage",
    "diagnosed",
    "treatments",
    "therapy",
    "payment_routes",
    "cost_help",
    "has_insurance",
    "preauthorisation",
    *(question.name for question in EXPORTED_DEFINED),
)


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas: a patient could type "=HYPERLINK(...)" as a name."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
