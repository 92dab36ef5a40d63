"""Weekly hours, time off and clinic closures.

A change never drops a booking: consults that no longer fit are listed for staff to move or
keep, and stay booked until someone decides.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app, flash, redirect, render_template, request, url_for

from ..core.models import StaffUser, TimeOff
from ..core.timeutil import clinic_zone, now_utc
from ..extensions import db
from ..scheduling.availability import outside_availability, set_weekly_hours, slot_rules
from ..scheduling.hours_grid import grid_of, read_grid
from . import bp
from .access import record
from .forms import ActionForm, TimeOffForm


def _consultants():
    return db.session.scalars(
        sa.select(StaffUser)
        .where(StaffUser.is_consultant.is_(True))
        .options(so.selectinload(StaffUser.hours))
        .order_by(StaffUser.name)
    ).all()


def _page(status=200, grids=None, time_off_form=None):
    """The page; ``grids`` holds a consultant's grid as typed when it must be shown again."""
    now = now_utc()
    people = _consultants()
    grids = grids or {}
    for person in people:
        if person.id not in grids:
            grids[person.id] = grid_of(person.hours)
    time_off_form = time_off_form or TimeOffForm(formdata=None)
    time_off_form.consultant_id.choices = {0: "The whole clinic", **{p.id: p.name for p in people}}
    time_off = db.session.scalars(
        sa.select(TimeOff).where(TimeOff.ends_at > now).order_by(TimeOff.starts_at)
    ).all()
    names = {p.id: p.name for p in people}
    rules = slot_rules(current_app.config)
    return (
        render_template(
            "staff/availability.html",
            consultants=people,
            grids=grids,
            grid_form=ActionForm(),
            time_off_form=time_off_form,
            time_off=time_off,
            names=names,
            outside=outside_availability(db.session, rules, now),
            delete_form=ActionForm(),
        ),
        status,
    )


@bp.get("/availability")
def availability():
    return _page()


@bp.post("/availability/<int:consultant_id>/hours")
def availability_hours(consultant_id):
    consultant = db.session.get(StaffUser, consultant_id)
    if consultant is None or not consultant.is_consultant:
        return _page(404)
    lines, grid = read_grid(request.form)
    if not ActionForm().validate_on_submit():
        flash("The page had expired: please save the hours again.")
        return _page(422, grids={consultant_id: grid})
    if any(day.error for day in grid):
        return _page(422, grids={consultant_id: grid})
    set_weekly_hours(consultant, lines)
    record("hours_changed", detail=f"consultant {consultant.id}")
    db.session.commit()
    flash(f"Hours saved for {consultant.name}.")
    return redirect(url_for(".availability"))


def _clinic_moment(day, clock: time | None, tz: ZoneInfo, end: bool) -> datetime:
    """A date and optional time in the clinic's zone; a missing end time means the whole day."""
    if clock is None:
        return datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=tz)
    return datetime.combine(day, clock, tzinfo=tz)


@bp.post("/availability/time-off")
def availability_time_off():
    form = TimeOffForm()
    form.consultant_id.choices = {0: "", **{p.id: p.name for p in _consultants()}}
    if form.validate_on_submit():
        tz = clinic_zone()
        starts = _clinic_moment(form.start_date.data, form.start_time.data, tz, end=False)
        ends = _clinic_moment(form.end_date.data, form.end_time.data, tz, end=True)
        who = form.consultant_id.data or None
        if ends <= starts:
            form.end_date.errors.append("The end must be after the start.")
        elif who is not None and who not in form.consultant_id.choices:
            form.consultant_id.errors.append("Choose a consultant or the whole clinic.")
        else:
            db.session.add(
                TimeOff(
                    consultant_id=who, starts_at=starts, ends_at=ends, reason=form.reason.data or ""
                )
            )
            record("time_off_added", detail=f"consultant {who}" if who else "whole clinic")
            db.session.commit()
            flash("Time off saved. Consults that now fall in it are listed below.")
            return redirect(url_for(".availability"))
    return _page(422, time_off_form=form)


@bp.post("/availability/time-off/<int:time_off_id>/delete")
def availability_time_off_delete(time_off_id):
    if ActionForm().validate_on_submit():
        row = db.session.get(TimeOff, time_off_id)
        if row is not None:
            db.session.delete(row)
            record("time_off_removed", detail=f"time off {time_off_id}")
            db.session.commit()
            flash("Time off removed.")
    return redirect(url_for(".availability"))
