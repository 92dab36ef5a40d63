"""The staff home page: urgent call-backs still waiting, questionnaires that ask for a call,
the consults coming next (see appointments/front_desk.py), and bookings per day."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, render_template

from ..appointments.front_desk import desk_view
from ..core.models import ACTIVE_STATUSES, Appointment, OutboundEmail, Questionnaire
from ..core.statuses import OutboxStatus
from ..core.timeutil import clinic_zone, format_waiting, now_utc
from ..core.worker_health import worker_late_by
from ..extensions import db
from ..intake.urgent_call_backs import waiting_cases
from ..messages.channels import channel_notes
from . import bp

CHART_DAYS = 14
# Emails that could not be sent are shown on the home page for this long after they were
# written (the email log keeps them all).
UNDELIVERED_DAYS = timedelta(days=14)


def day_bounds(day, tz) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def bookings_per_day(today, tz) -> list[tuple[str, int, bool]]:
    """(label, count, is_future) for the last and next ``CHART_DAYS`` days, clinic time."""
    first, _ = day_bounds(today - timedelta(days=CHART_DAYS), tz)
    _, last = day_bounds(today + timedelta(days=CHART_DAYS), tz)
    starts = db.session.scalars(
        sa.select(Appointment.starts_at).where(
            Appointment.status.in_(ACTIVE_STATUSES),
            Appointment.starts_at >= first,
            Appointment.starts_at < last,
        )
    )
    counts = Counter(moment.astimezone(tz).date() for moment in starts)
    days = [today + timedelta(days=offset) for offset in range(-CHART_DAYS, CHART_DAYS + 1)]
    return [(day.strftime("%a %d %b"), counts[day], day >= today) for day in days]


@bp.get("/")
def home():
    tz = clinic_zone()
    today = now_utc().astimezone(tz).date()
    coming = desk_view(db.session, now_utc(), tz)
    follow_ups = db.session.scalars(
        sa.select(Questionnaire)
        .join(Questionnaire.appointment)
        .where(Questionnaire.follow_up.is_not(None), Questionnaire.follow_up_done_at.is_(None))
        .options(so.contains_eager(Questionnaire.appointment))
        .order_by(Questionnaire.updated_at)
    ).all()
    chart = bookings_per_day(today, tz)
    undelivered = db.session.scalar(
        sa.select(sa.func.count(OutboundEmail.id)).where(
            OutboundEmail.status == OutboxStatus.DEAD,
            OutboundEmail.created_at >= now_utc() - UNDELIVERED_DAYS,
        )
    )
    return render_template(
        "staff/home.html",
        waiting=waiting_cases(db.session),
        follow_ups=follow_ups,
        coming=coming,
        chart=chart,
        chart_max=max(c for _, c, _ in chart) or 1,
        undelivered=undelivered,
        channel_notes=channel_notes(current_app.config),
        worker_late=_worker_late_words(),
    )


def _worker_late_words() -> str | None:
    """ "12 min ago", "has not run yet", or None while the worker keeps time."""
    late = worker_late_by(db.session, now_utc())
    if late is None:
        return None
    if late == timedelta.max:
        return "the worker has not run yet"
    return f"the worker last ran {format_waiting(late)} ago"
