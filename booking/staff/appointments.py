"""Appointments: the filtered list, CSV export, the appointment page and its actions.

Every view of an appointment and every change writes an audit event with the staff user.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..appointments.bookings import SlotTaken
from ..appointments.changes import (
    ChangeRefused,
    add_note,
    cancel_appointment,
    reassign_and_commit,
    set_outcome,
    staff_rules,
)
from ..appointments.contact_details import undelivered
from ..appointments.listing import Filters, export_csv, list_page
from ..core.models import (
    Appointment,
    AppointmentNote,
    AuditEvent,
    OutboundEmail,
    Questionnaire,
    StaffUser,
)
from ..core.statuses import AppointmentStatus
from ..core.timeutil import clinic_today, clinic_zone, now_utc
from ..extensions import db
from ..intake import choices
from ..intake.booking_questions import answers_in_words
from ..intake.consultant_summary import consultant_summary
from ..intake.health_questionnaire import answers_of, record_follow_up
from ..intake.health_questionnaire import state as questionnaire_state
from ..intake.questionnaire_questions import answer_rows
from ..intake.safety import BEFORE_CHECKLIST
from ..intake.urgent_call_backs import CallBackRefused, record_call_back
from ..messages.channels import channels_off
from ..messages.outbox import ENCRYPTED_BODY
from ..scheduling.chosen_time import consultants_free_at
from ..web.moving import MoveDoor, move_page
from ..web.paging import page_number
from . import bp
from .access import record, staff_actor
from .forms import (
    ActionForm,
    CallBackForm,
    ListFilterForm,
    ModeForm,
    NoteForm,
    ReassignForm,
    StaffCancelForm,
    StatusForm,
    VideoLinkForm,
)


def consultants() -> list[StaffUser]:
    return list(
        db.session.scalars(
            sa.select(StaffUser).where(StaffUser.is_consultant.is_(True)).order_by(StaffUser.name)
        )
    )


def load(reference: str) -> Appointment:
    appointment = db.session.scalar(
        sa.select(Appointment)
        .where(Appointment.reference == reference.upper())
        .options(
            so.joinedload(Appointment.intake),
            so.joinedload(Appointment.consultant),
            so.joinedload(Appointment.questionnaire).undefer(Questionnaire.answers),
        )
    )
    if appointment is None:
        abort(404)
    if appointment.intake is None and request.method == "POST" and not _erasing():
        abort(409)  # its data is gone: only the rest of it can still be erased
    return appointment


def _erasing() -> bool:
    return request.endpoint == "staff.appointment_erase"


LIST_FILTERS_KEY = "list_filters"


def _list_args() -> MultiDict:
    """The list's filters: the link's, else the last ones used in this session, else the
    default view, from today, soonest first. ``?reset=1`` goes back to the default."""
    if request.args.get("reset"):
        session.pop(LIST_FILTERS_KEY, None)
    elif request.args:
        kept = [(key, value) for key, value in request.args.items(multi=True) if key != "page"]
        session[LIST_FILTERS_KEY] = kept
        return request.args
    elif session.get(LIST_FILTERS_KEY) is not None:
        return MultiDict(session[LIST_FILTERS_KEY])
    return MultiDict({"date_from": clinic_today().isoformat()})


def read_filters() -> tuple[ListFilterForm, Filters]:
    """The filter bar from the query string (or the session), and the filters it validly
    names."""
    args = _list_args()
    form = ListFilterForm(args)
    form.consultant_id.choices = {"": "Any", **{str(c.id): c.name for c in consultants()}}
    form.validate()
    return form, Filters.from_valid(form.data, form.errors, page_number(args))


@bp.get("/appointments")
def appointment_list():
    form, filters = read_filters()
    if filters.shows_health:  # committed first: a commit after would expire the page's rows
        record("list_viewed", detail=filters.audit_detail())
        db.session.commit()
    page = list_page(db.session, filters, clinic_zone())
    return render_template("staff/appointments.html", page=page, filters=filters, form=form)


@bp.get("/appointments/export.csv")
def appointment_export():
    """The filtered list in the words staff see."""
    return _export(codes=False)


@bp.get("/appointments/export-codes.csv")
def appointment_export_codes():
    """The same rows with the stored codes, for spreadsheets that expect them."""
    return _export(codes=True)


def _export(codes: bool):
    _, filters = read_filters()
    text, count = export_csv(db.session, filters, clinic_zone(), codes=codes)
    detail = f"{count} rows{' (codes)' if codes else ''}; filters: {filters.audit_detail()}"
    record("exported", detail=detail[:200])
    db.session.commit()
    name = "appointments-codes.csv" if codes else "appointments.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _email_log(appointment: Appointment) -> list[OutboundEmail]:
    return list(
        db.session.scalars(
            sa.select(OutboundEmail)
            .where(OutboundEmail.appointment_id == appointment.id)
            # The log shows kinds and statuses; bodies stay encrypted (and one that can no
            # longer be decrypted must not take the page down with it).
            .options(*(so.defer(column) for column in ENCRYPTED_BODY))
            .order_by(OutboundEmail.created_at, OutboundEmail.id)
        )
    )


def _trail(appointment: Appointment) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.appointment_id == appointment.id)
            .options(so.joinedload(AuditEvent.staff_user))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(100)
        )
    )


def _detail(appointment: Appointment, status=200, **forms):
    emails = _email_log(appointment)
    trail = _trail(appointment)
    if appointment.erased_at is not None or appointment.intake is None:
        page = render_template(
            "staff/appointment_erased.html", appointment=appointment, emails=emails, trail=trail
        )
        return page, status
    notes = db.session.scalars(
        sa.select(AppointmentNote)
        .where(AppointmentNote.appointment_id == appointment.id)
        .options(so.joinedload(AppointmentNote.author))
        .order_by(AppointmentNote.created_at)
    ).all()
    reassign = forms.get("reassign_form") or ReassignForm()
    free = []
    if appointment.status == AppointmentStatus.CONFIRMED:
        free = consultants_free_at(db.session, staff_rules(), now_utc(), appointment.starts_at)
    others = [(c.id, c.name) for c in consultants() if c.id in free]
    others = [choice for choice in others if choice[0] != appointment.consultant_id]
    reassign.consultant_id.choices = [("", "Choose a consultant"), *others] if others else []
    return (
        render_template(
            "staff/appointment.html",
            appointment=appointment,
            intake=appointment.intake,
            intake_more=answers_in_words(appointment.intake) if appointment.intake else [],
            emails=emails,
            trail=trail,
            notes=notes,
            patient_tz=appointment.patient_timezone,
            choices=choices,
            now=now_utc(),
            whatsapp_digits=appointment.patient_phone.lstrip("+"),
            status_form=forms.get("status_form") or StatusForm(status=appointment.status),
            note_form=forms.get("note_form") or NoteForm(),
            reassign_form=reassign,
            call_back_form=forms.get("call_back_form") or CallBackForm(),
            follow_up_form=ActionForm(),
            summary=consultant_summary(appointment, clinic_today()),
            before_checklist=BEFORE_CHECKLIST,
            questionnaire_rows=answer_rows(answers_of(appointment.questionnaire)),
            questionnaire_state=questionnaire_state(appointment),
            undelivered=undelivered(db.session, appointment),
            channels_off={
                phone: channels_off(db.session, phone)
                for phone in {appointment.patient_phone, appointment.booker_phone}
                if phone
            },
            video_form=forms.get("video_form") or VideoLinkForm(),
            mode_form=forms.get("mode_form") or ModeForm(consult_mode=appointment.consult_mode),
        ),
        status,
    )


@bp.get("/appointments/<reference>")
def appointment_detail(reference):
    appointment = load(reference)
    record("viewed", appointment)
    db.session.commit()
    return _detail(load(reference))


@bp.post("/appointments/<reference>/status")
def appointment_status(reference):
    appointment = load(reference)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            set_outcome(
                db.session,
                appointment,
                form.status.data,
                now_utc(),
                staff_actor(),
            )
        except ChangeRefused as error:
            flash(str(error))
            return _detail(appointment, 409, status_form=form)
        db.session.commit()
        flash("Outcome saved.")
        return redirect(url_for(".appointment_detail", reference=appointment.reference))
    return _detail(appointment, 422, status_form=form)


@bp.route("/appointments/<reference>/cancel", methods=["GET", "POST"])
def appointment_cancel(reference):
    """A second step before cancelling: what the patient will be told, and a way back."""
    appointment = load(reference)
    form = StaffCancelForm()
    if form.validate_on_submit():
        try:
            cancel_appointment(
                db.session,
                appointment,
                now_utc(),
                staff_actor(),
                reason=form.reason.data,
                category=form.category.data,
            )
        except ChangeRefused as error:
            flash(str(error))
            return redirect(url_for(".appointment_detail", reference=appointment.reference))
        db.session.commit()
        flash("Cancelled. The patient has been emailed and the reminders stopped.")
        return redirect(url_for(".appointment_detail", reference=appointment.reference))
    status = 422 if form.is_submitted() else 200
    return render_template("staff/cancel.html", appointment=appointment, form=form), status


@bp.post("/appointments/<reference>/call-back")
def appointment_call_back(reference):
    appointment = load(reference)
    form = CallBackForm()
    if form.validate_on_submit():
        try:
            record_call_back(
                db.session,
                appointment,
                form.outcome.data,
                form.note.data,
                now_utc(),
                actor=staff_actor(),
            )
        except CallBackRefused as error:
            form.outcome.errors.append(str(error))
            return _detail(appointment, 409, call_back_form=form)
        db.session.commit()
        if appointment.urgent_case.closed_at is None:
            flash("Call recorded. The patient stays on the urgent list until someone reaches them.")
        else:
            flash("Call recorded. The patient is off the urgent list.")
        return redirect(url_for(".appointment_detail", reference=appointment.reference))
    return _detail(appointment, 422, call_back_form=form)


@bp.post("/appointments/<reference>/follow-up")
def appointment_follow_up(reference):
    """Staff called the patient about the questionnaire's answers (distress, low mood)."""
    appointment = load(reference)
    form = ActionForm()
    if form.validate_on_submit():
        if record_follow_up(db.session, appointment, current_user, now_utc(), staff_actor()):
            db.session.commit()
            flash("Follow-up recorded.")
        return redirect(url_for(".appointment_detail", reference=appointment.reference))
    return _detail(appointment, 422)


@bp.post("/appointments/<reference>/notes")
def appointment_note(reference):
    appointment = load(reference)
    form = NoteForm()
    if form.validate_on_submit():
        add_note(db.session, appointment, form.text.data, now_utc(), staff_actor())
        db.session.commit()
        flash("Note added.")
        return redirect(url_for(".appointment_detail", reference=appointment.reference))
    return _detail(appointment, 422, note_form=form)


@bp.post("/appointments/<reference>/reassign")
def appointment_reassign(reference):
    """Without ``confirm``: the change named, to be confirmed. With it: the reassignment."""
    appointment = load(reference)
    form = ReassignForm()
    if not form.validate_on_submit():
        return _detail(appointment, 422, reassign_form=form)
    new_consultant = db.session.get(StaffUser, form.consultant_id.data)
    if new_consultant is None or not new_consultant.is_consultant:
        form.consultant_id.errors.append("Choose a consultant from the list.")
        return _detail(appointment, 422, reassign_form=form)
    if request.form.get("confirm") != "yes":
        return render_template(
            "staff/reassign.html", appointment=appointment, form=form, to=new_consultant
        )
    try:
        reassign_and_commit(db.session, appointment, new_consultant.id, now_utc(), staff_actor())
    except (SlotTaken, ChangeRefused):
        form.consultant_id.errors.append("That consultant is not free at this time.")
        return _detail(load(reference), 409, reassign_form=form)
    flash(f"Reassigned to {new_consultant.name}.")
    return redirect(url_for(".appointment_detail", reference=appointment.reference))


@bp.route("/appointments/<reference>/move", methods=["GET", "POST"])
def appointment_move(reference):
    """The booking's picker in the clinic's zone, then "You are moving to …" to confirm."""
    appointment = load(reference)
    if appointment.status != AppointmentStatus.CONFIRMED:
        flash("Only a confirmed consult can be moved.")
        return redirect(url_for(".appointment_detail", reference=appointment.reference))
    door = MoveDoor(
        endpoint="staff.appointment_move",
        url_args={"reference": reference},
        template="staff/move.html",
        rules=staff_rules(),
        actor=staff_actor(),
        default_zone=current_app.config["CLINIC_TIMEZONE"],
        done_url=url_for(".appointment_detail", reference=reference),
        done_message="Moved. The patient has been emailed the new time.",
        zone_choice=False,
        whose="clinic time",
    )
    return move_page(appointment, door)
