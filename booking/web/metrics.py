"""Numbers to alert on, for Prometheus at ``/metrics``: off unless ``METRICS_TOKEN`` is set,
and then only with ``Authorization: Bearer <token>``.

What harms patients when it goes wrong is read from the database at each scrape, so every
web process reports the same figures: messages waiting and failed, the oldest waiting
message, urgent cases nobody has reached and the oldest one's wait, the worker's last run,
and the bookings, holds and cancellations of the last hour. Each process adds its own
request durations by endpoint group and its rate-limit refusals (with several gunicorn
workers, set ``PROMETHEUS_MULTIPROC_DIR`` and they are added up across them). No label or
value carries personal data: groups and kinds only.
"""

from __future__ import annotations

import hmac
import os
import time
from datetime import timedelta

import sqlalchemy as sa
from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from ..core.models import Appointment, AuditEvent, OutboundEmail, SlotClaim, UrgentCase
from ..core.statuses import OutboxStatus
from ..core.timeutil import now_utc
from ..core.worker_health import last_run
from ..extensions import db, limiter

REQUEST_SECONDS = Histogram(
    "booking_request_seconds", "Time to answer a request, by endpoint group", ["group"]
)
RATE_LIMITED = Counter(
    "booking_rate_limited_total", "Requests refused by a rate limit, by endpoint group", ["group"]
)


def endpoint_group() -> str:
    """A request's group: the booking form, the manage link, the waitlist, staff pages..."""
    endpoint = request.endpoint or ""
    if endpoint.startswith("staff."):
        return "staff"
    if endpoint.startswith("health."):
        return "health"
    for word in ("manage", "waitlist", "questionnaire", "webhook"):
        if word in endpoint:
            return word
    return "booking" if endpoint.startswith("public.") else "other"


class FromTheDatabase:
    """The figures that matter to patients, read when Prometheus asks."""

    def collect(self):
        now = now_utc()
        hour_ago = now - timedelta(hours=1)
        session = db.session

        def gauge(name: str, text: str, value: float | None):
            family = GaugeMetricFamily(name, text)
            family.add_metric([], float("nan") if value is None else value)
            return family

        def count(model, *where) -> int:
            return session.scalar(sa.select(sa.func.count(model.id)).where(*where)) or 0

        oldest_pending = session.scalar(
            sa.select(sa.func.min(OutboundEmail.created_at)).where(
                OutboundEmail.status == OutboxStatus.PENDING
            )
        )
        oldest_urgent = session.scalar(
            sa.select(sa.func.min(UrgentCase.raised_at)).where(UrgentCase.closed_at.is_(None))
        )
        ran = last_run(session)
        yield gauge(
            "booking_messages_pending",
            "Messages waiting to be sent",
            count(OutboundEmail, OutboundEmail.status == OutboxStatus.PENDING),
        )
        yield gauge(
            "booking_messages_dead",
            "Messages given up on, waiting for staff",
            count(OutboundEmail, OutboundEmail.status == OutboxStatus.DEAD),
        )
        yield gauge(
            "booking_messages_oldest_pending_seconds",
            "Age of the oldest message waiting to be sent (NaN: none)",
            None if oldest_pending is None else (now - oldest_pending).total_seconds(),
        )
        yield gauge(
            "booking_urgent_unreached",
            "Urgent call-backs nobody has recorded reaching",
            count(UrgentCase, UrgentCase.closed_at.is_(None)),
        )
        yield gauge(
            "booking_urgent_oldest_unreached_seconds",
            "How long the oldest unreached urgent call-back has waited (NaN: none)",
            None if oldest_urgent is None else (now - oldest_urgent).total_seconds(),
        )
        yield gauge(
            "booking_worker_last_run_seconds",
            "Seconds since the worker's reminders job last ran (+Inf: never)",
            float("inf") if ran is None else (now - ran).total_seconds(),
        )
        yield gauge(
            "booking_bookings_last_hour",
            "Bookings made in the last hour",
            count(Appointment, Appointment.created_at >= hour_ago),
        )
        yield gauge(
            "booking_holds_live",
            "Times held for a browser right now",
            count(SlotClaim, SlotClaim.appointment_id.is_(None), SlotClaim.expires_at > now),
        )
        yield gauge(
            "booking_cancellations_last_hour",
            "Consults cancelled in the last hour",
            count(AuditEvent, AuditEvent.action == "cancelled", AuditEvent.at >= hour_ago),
        )


def register(app: Flask) -> None:
    @app.after_request
    def observe(response):
        # Timed from the start request_log.py records for its own log line.
        if "request_started" in g and request.endpoint != "metrics":
            group = endpoint_group()
            REQUEST_SECONDS.labels(group).observe(time.perf_counter() - g.request_started)
            if response.status_code == 429:
                RATE_LIMITED.labels(group).inc()
        return response

    @app.get("/metrics", endpoint="metrics")
    @limiter.exempt
    def metrics():
        token = current_app.config.get("METRICS_TOKEN")
        if not token:
            abort(404)  # off: the endpoint does not exist
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(sent.encode(), token.encode()):
            abort(404)
        registry = CollectorRegistry()
        registry.register(FromTheDatabase())
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.MultiProcessCollector(registry)
        else:
            registry.register(REQUEST_SECONDS)
            registry.register(RATE_LIMITED)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
