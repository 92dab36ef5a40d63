"""The message log: every outbox row (emails, WhatsApp and SMS texts), filterable by status,
kind and channel, with what the provider reported; a dead message can be sent again."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import flash, redirect, render_template, request, url_for

from ..core.models import OutboundEmail
from ..core.statuses import Channel, OutboxStatus
from ..core.timeutil import now_utc
from ..extensions import db
from ..messages.outbox import ENCRYPTED_BODY, retry_dead
from ..web.paging import page_number
from . import bp
from .access import record
from .forms import ActionForm

STATUSES = list(OutboxStatus)
CHANNELS = list(Channel)
PER_PAGE = 50


@bp.get("/emails")
def emails():
    status = request.args.get("status") or None
    kind = request.args.get("kind") or None
    channel = request.args.get("channel") or None
    page = page_number(request.args)
    query = sa.select(OutboundEmail)
    if status in STATUSES:
        query = query.where(OutboundEmail.status == status)
    if channel in CHANNELS:
        query = query.where(OutboundEmail.channel == channel)
    if kind:
        query = query.where(OutboundEmail.kind == kind[:30])
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    rows = db.session.scalars(
        query.options(
            so.joinedload(OutboundEmail.appointment),
            *(so.defer(column) for column in ENCRYPTED_BODY),
        )
        .order_by(OutboundEmail.created_at.desc(), OutboundEmail.id.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    ).all()
    kinds = db.session.scalars(
        sa.select(OutboundEmail.kind).distinct().order_by(OutboundEmail.kind)
    )
    return render_template(
        "staff/emails.html",
        rows=rows,
        status=status,
        kind=kind,
        channel=channel,
        channels=CHANNELS,
        statuses=STATUSES,
        kinds=list(kinds),
        page=page,
        pages=max((total + PER_PAGE - 1) // PER_PAGE, 1),
        total=total,
        retry_form=ActionForm(),
    )


@bp.post("/emails/<int:email_id>/retry")
def email_retry(email_id):
    """Give a dead email a fresh set of attempts; it keeps its Message-ID."""
    if ActionForm().validate_on_submit():
        if retry_dead(db.session, email_id, now_utc()):
            record("email_retried", detail=f"email {email_id}")
            db.session.commit()
            flash("The message will be sent again within a minute.")
    return redirect(request.referrer or url_for(".emails"))
