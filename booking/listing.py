"""The staff list of appointments: filters, search, sort by time, pages, and CSV export.

A page costs two queries whatever its size: a count, and the page itself with its intake and
consultant joined in (no query per row). Every filter has an index behind it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so

from . import choices
from .models import Appointment, Intake

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
    q: str | None = None
    page: int = 1
    per_page: int = 25
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> Filters:
        """Read the query string leniently: a bad value is reported and ignored, never a 500."""
        filters = cls()
        errors = filters.errors
        status = args.get("status") or None
        if status and status not in choices.STATUSES:
            errors["status"] = "Unknown status."
        else:
            filters.status = status
        for name in ("date_from", "date_to"):
            value = args.get(name) or None
            if value:
                try:
                    setattr(filters, name, date.fromisoformat(value))
                except ValueError:
                    errors[name] = "Use a date like 2026-12-01."
        consultant = args.get("consultant_id") or None
        if consultant:
            if consultant.isdigit():
                filters.consultant_id = int(consultant)
            else:
                errors["consultant_id"] = "Unknown consultant."
        cancer_type = args.get("cancer_type") or None
        if cancer_type and cancer_type not in dict(choices.CANCER_TYPES):
            errors["cancer_type"] = "Unknown cancer type."
        else:
            filters.cancer_type = cancer_type
        insurance = args.get("has_insurance") or None
        if insurance and insurance not in dict(choices.YES_NO_UNSURE):
            errors["has_insurance"] = "Unknown answer."
        else:
            filters.has_insurance = insurance
        urgent = args.get("urgent")
        filters.urgent = {"yes": True, "no": False}.get(urgent or "")
        filters.q = (args.get("q") or "").strip()[:100] or None
        page = args.get("page", "1")
        filters.page = max(int(page), 1) if page.isdigit() else 1
        per_page = args.get("per_page", "25")
        if per_page.isdigit() and int(per_page) in PAGE_SIZES:
            filters.per_page = int(per_page)
        return filters

    def query_args(self, **changes) -> dict[str, str]:
        """The filters as query-string values, for links to other pages of the same list."""
        values = {
            "status": self.status,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "consultant_id": self.consultant_id,
            "cancer_type": self.cancer_type,
            "has_insurance": self.has_insurance,
            "urgent": {True: "yes", False: "no"}.get(self.urgent),
            "q": self.q,
            "per_page": self.per_page if self.per_page != 25 else None,
        }
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


def filtered(filters: Filters, clinic_tz: ZoneInfo) -> sa.Select:
    """The select of matching appointments (with their intake), sorted by time."""
    query = sa.select(Appointment).join(Intake, Intake.appointment_id == Appointment.id)
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
    if filters.q:
        needle = filters.q.lower()
        digits = "".join(ch for ch in filters.q if ch.isdigit())
        conditions = [
            Appointment.reference == filters.q.upper(),
            sa.func.lower(Appointment.patient_email) == needle,
            sa.func.lower(Appointment.patient_name).contains(needle, autoescape=True),
        ]
        if len(digits) >= 6:
            conditions.append(Appointment.patient_phone.contains(digits, autoescape=True))
        query = query.where(sa.or_(*conditions))
    return query.order_by(Appointment.starts_at, Appointment.id)


@dataclass
class Page:
    items: list[Appointment]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def list_page(session: so.Session, filters: Filters, clinic_tz: ZoneInfo) -> Page:
    query = filtered(filters, clinic_tz)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    page = min(filters.page, max((total + filters.per_page - 1) // filters.per_page, 1))
    items = session.scalars(
        query.options(so.contains_eager(Appointment.intake), so.joinedload(Appointment.consultant))
        .limit(filters.per_page)
        .offset((page - 1) * filters.per_page)
    ).all()
    return Page(list(items), total, page, filters.per_page)


CSV_COLUMNS = [
    "reference",
    "starts_at_utc",
    "starts_at_clinic",
    "status",
    "urgent",
    "consult_mode",
    "consultant",
    "patient_name",
    "patient_email",
    "patient_phone",
    "preferred_channel",
    "patient_timezone",
    "booked_by",
    "cancer_type",
    "stage",
    "diagnosed",
    "treatments",
    "has_insurance",
    "preauthorisation",
]


def export_csv(session: so.Session, filters: Filters, clinic_tz: ZoneInfo) -> tuple[str, int]:
    """Every matching appointment as CSV, without any encrypted free text. Returns the text
    and the row count (for the audit event)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    rows = session.scalars(
        filtered(filters, clinic_tz)
        .options(so.contains_eager(Appointment.intake), so.joinedload(Appointment.consultant))
        .execution_options(yield_per=1000)
    )
    count = 0
    for appointment in rows:
        intake = appointment.intake
        writer.writerow(
            [
                appointment.reference,
                appointment.starts_at.isoformat(),
                appointment.starts_at.astimezone(clinic_tz).strftime("%Y-%m-%d %H:%M"),
                appointment.status,
                "yes" if appointment.urgent else "no",
                appointment.consult_mode,
                appointment.consultant.name,
                _safe_cell(appointment.patient_name),
                _safe_cell(appointment.patient_email),
                appointment.patient_phone,
                appointment.preferred_channel,
                appointment.patient_timezone,
                appointment.booked_by,
                intake.cancer_type,
                intake.stage,
                intake.diagnosed,
                intake.treatments,
                intake.has_insurance,
                intake.preauthorisation or "",
            ]
        )
        count += 1
    return buffer.getvalue(), count


def _safe_cell(value: str) -> str:
    """Neutralise spreadsheet formulas: a patient could type "=HYPERLINK(...)" as a name."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
