"""The waitlist for staff: who is waiting (longest first), for which days and times, what was
offered to them, and taking someone off the list when they ask (their details are deleted).
Entries not confirmed yet are listed too, marked so: nothing is offered to them."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import flash, redirect, render_template, url_for

from ..appointments.waitlist import OPEN, remove
from ..core.models import WaitlistEntry
from ..core.timeutil import now_utc
from ..extensions import db
from ..intake import choices
from . import bp
from .access import staff_actor
from .forms import ActionForm


@bp.get("/waitlist")
def waitlist():
    entries = db.session.scalars(
        sa.select(WaitlistEntry)
        .where(WaitlistEntry.status.in_(OPEN))
        .options(so.selectinload(WaitlistEntry.offers))
        .order_by(WaitlistEntry.created_at, WaitlistEntry.id)
    ).all()
    return render_template(
        "staff/waitlist.html", entries=entries, choices=choices, form=ActionForm()
    )


@bp.post("/waitlist/<int:entry_id>/remove")
def waitlist_remove(entry_id):
    entry = db.get_or_404(WaitlistEntry, entry_id)
    form = ActionForm()
    if form.validate_on_submit() and entry.status in OPEN:
        name = entry.name
        remove(db.session, entry, now_utc(), staff_actor())
        db.session.commit()
        flash(f"{name} is off the waitlist, and their details are deleted.")
    return redirect(url_for(".waitlist"))
