"""What the service says to people: emails (a template folder per kind: subject, text and HTML)
and .ics files.

Everything here renders from plain values handed in; nothing queries the database. The
worker calls these when it sends a message (``writing.py``); the staff questions page calls
``reminder_email`` for its preview.
Staff notifications carry the reference, the time and a link, never the intake's answers:
staff inboxes are shared and forwarded, the staff page is where health data is shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from flask import current_app, render_template

from ..core.models import Appointment
from ..core.phones import readable_phone
from ..core.statuses import Channel, MessageKind, Reader
from ..core.timeutil import clinic_zone, format_local, format_waiting, zone
from ..intake import choices
from ..intake.safety import appointment_guidance, guidance_for
from .channels import CHANGE_LINK_WORDS, TEXTS, dlt_template_ids, fill
from .kinds import CONSULTANT_VIDEO_CHANGE, template_of
from .readers import ReaderOf, booked_by_relative, numbers_to_call, reader_of


@dataclass
class Email:
    """One rendered email, ready to become an outbox row."""

    kind: MessageKind
    recipient: str
    subject: str
    text: str
    html: str
    ics: str | None = None


def manage_url(token: str) -> str:
    return f"{current_app.config['BASE_URL']}/manage/{token}"


def staff_url(appointment: Appointment) -> str:
    return f"{current_app.config['BASE_URL']}/staff/appointments/{appointment.reference}"


def ics_uid(appointment: Appointment) -> str:
    """Stable for the life of the booking, so calendars update the entry instead of adding one."""
    host = current_app.config["BASE_URL"].split("://", 1)[-1].split("/", 1)[0].split(":")[0]
    return f"{appointment.reference}@{host or 'consult.local'}"


def times(appointment: Appointment, timezone: str | None = None) -> dict[str, str]:
    """The consult's start in the reader's zone (the patient's unless ``timezone`` says) and
    the clinic's, for every template."""
    config = current_app.config
    patient_tz = zone(timezone or appointment.patient_timezone, config["CLINIC_TIMEZONE"])
    clinic_tz = clinic_zone()
    return {
        "patient_time": format_local(appointment.starts_at, patient_tz),
        "patient_zone": str(patient_tz),
        "clinic_time": format_local(appointment.starts_at, clinic_tz),
        "clinic_zone": config["CLINIC_TIMEZONE"],
        "same_zone": str(patient_tz) == config["CLINIC_TIMEZONE"],
    }


def consult_how(appointment: Appointment, reader: ReaderOf | None = None) -> str:
    """How the consult happens, said to ``reader``: a call goes to the first number staff
    call, which is the reader's own ("We will call you on ...") or someone else's ("We will
    call Kamla Devi on ...")."""
    name, phone = numbers_to_call(appointment)[0]
    how = choices.CONSULT_MODE_HOW[appointment.consult_mode].format(
        phone=readable_phone(phone),
        link=appointment.video_link or "(the link will follow by email)",
    )
    if reader is not None and phone != reader.phone:
        how = how.replace("call you ", f"call {name} ", 1).replace("your consult", "the consult")
    return how


def build_ics(
    appointment: Appointment, cancel: bool = False, reader: ReaderOf | None = None
) -> str:
    """A calendar entry with a stable UID and SEQUENCE = the booking's version.

    The summary says "free consult" and nothing about the diagnosis: calendars are synced to
    phones, shared with family and shown on lock screens. For the same reason it carries no
    manage link (which can cancel the booking): only the reference and the clinic's phone.
    """
    config = current_app.config
    name = config["CLINIC_NEUTRAL_NAME"] if reader and reader.discreet else config["CLINIC_NAME"]
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Consult booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "REQUEST")
    event = icalendar.Event()
    event.add("uid", ics_uid(appointment))
    event.add("sequence", appointment.version)
    event.add("dtstamp", datetime.now(tz=ZoneInfo("UTC")))
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("summary", f"Free consult with {name}")
    event.add("status", "CANCELLED" if cancel else "CONFIRMED")
    description = [f"Reference: {appointment.reference}"]
    if not cancel:  # a cancelled consult's entry says nothing of how it would have happened
        description.append(consult_how(appointment, reader))
        description.append("To change or cancel, use the link in your email.")
    description.append(f"Clinic: {config['CLINIC_PHONE']} ({config['CLINIC_PHONE_HOURS']})")
    event.add("description", "\n".join(description))
    if appointment.video_link and not cancel:
        event.add("location", appointment.video_link)
        event.add("url", appointment.video_link)
    else:
        event.add("location", choices.label(choices.CONSULT_MODES, appointment.consult_mode))
    event.add("organizer", f"mailto:{config['CLINIC_EMAIL']}", parameters={"cn": name})
    attendee = reader or reader_of(appointment, Reader.PATIENT)
    event.add("attendee", f"mailto:{attendee.email}", parameters={"cn": attendee.name})
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


def safety_context(appointment: Appointment, reader: ReaderOf | None = None) -> dict:
    """What every patient-facing page and email about a booking needs to say when to get help:
    the guidance for the red flags reported, and whom our team will call on which number. A
    discreet reader (a patient who may not yet know) gets neither: only "when to get help"."""
    if reader is not None and reader.discreet:
        return {"guidance": guidance_for([], False), "callback_phone": None, "callback_to": None}
    name, phone = numbers_to_call(appointment)[0]
    return {
        "guidance": appointment_guidance(appointment),
        "callback_phone": readable_phone(phone),
        "callback_to": None if reader is None or phone == reader.phone else name,
    }


def render_email(kind: MessageKind, *, recipient: str, ics: str | None = None, **context) -> Email:
    """One email of a kind, from the folder ``messages/kinds.py`` names for it under
    ``templates/email/``: ``subject.txt``, ``body.txt`` and ``body.html``. Only the HTML is
    autoescaped, so the HTML includes only HTML partials. Patient emails also get what every
    one of them shows: the safety guidance."""
    template = template_of(kind)
    reader = context.get("reader")
    if reader is not None and reader.discreet:  # signed with a name that tells nothing
        config = current_app.config
        context.setdefault("clinic", {**config, "CLINIC_NAME": config["CLINIC_NEUTRAL_NAME"]})
    context.setdefault("clinic", current_app.config)
    context.setdefault("email_kind", str(kind))
    appointment = context.get("appointment")
    if appointment is not None and not template.startswith("staff_"):
        # Every patient email carries "when to get help"; an urgent booking's also says what
        # to do about the symptoms reported, and who will call.
        context = {**safety_context(appointment, context.get("reader")), **context}
    subject = render_template(f"email/{template}/subject.txt", **context)
    return Email(
        kind=kind,
        recipient=recipient,
        # One line, whatever a template or a value says: a line break would start a new header.
        subject=" ".join(subject.split()),
        text=render_template(f"email/{template}/body.txt", **context),
        html=render_template(f"email/{template}/body.html", **context),
        ics=ics,
    )


def reader_context(appointment: Appointment, reader: ReaderOf | None) -> dict:
    """Whom a patient-side message speaks to, and about whom: ``reader`` (the patient when
    not given), and the relative's words for the patient's copy of a booking they made."""
    reader = reader or reader_of(appointment, Reader.PATIENT)
    if reader.is_patient:
        consult_of, short_of = "your free consult", "your consult"
        booked_line = "Your free consult is booked."
        if booked_by_relative(appointment):
            relationship = (appointment.booker_relationship or "").strip()
            who = f"Your {relationship} {appointment.booker_name}" if relationship else None
            booked_line = f"{who or appointment.booker_name} booked a free consult for you."
    else:
        consult_of = f"the free consult for {appointment.patient_name}"
        short_of = f"the consult for {appointment.patient_name}"
        booked_line = f"You booked a free consult for {appointment.patient_name}."
    return {
        "reader": reader,
        "consult_of": consult_of,  # "your free consult", "the free consult for Kamla Devi"
        "Consult_of": consult_of[0].upper() + consult_of[1:],
        "short_of": short_of,  # for subjects: "your consult", "the consult for Kamla Devi"
        "Short_of": short_of[0].upper() + short_of[1:],
        "booked_line": booked_line,
        **times(appointment, reader.timezone),
    }


def _patient_email(
    kind: MessageKind,
    appointment: Appointment,
    questions: list[str],
    own_questions: str | None,
    manage_token: str,
    reader: ReaderOf | None = None,
    **context,
) -> Email:
    """An email to the patient or the relative about a booking that stands: the consult's
    details, the question list (none for a discreet reader), a manage link and the current
    calendar entry."""
    words = reader_context(appointment, reader)
    reader = words["reader"]
    link = manage_url(manage_token)
    questionnaire = appointment.questionnaire
    discreet = reader.discreet
    return render_email(
        kind,
        recipient=reader.email,
        ics=build_ics(appointment, reader=reader),
        appointment=appointment,
        questions=[] if discreet else questions,
        own_questions=None if discreet else own_questions,
        manage_link=link,
        questionnaire_link=None if discreet else f"{link}/questionnaire",
        questionnaire_done=questionnaire is not None and questionnaire.status == "done",
        how=consult_how(appointment, reader),
        **words,
        **context,
    )


def confirmation_email(
    appointment: Appointment,
    questions: list[str],
    own_questions: str | None,
    manage_token: str,
    reader: ReaderOf | None = None,
) -> Email:
    """The confirmation: time, how it happens, the question list and the .ics."""
    return _patient_email(
        MessageKind.CONFIRMATION, appointment, questions, own_questions, manage_token, reader
    )


def when_phrase(starts_at: datetime, now: datetime, tz) -> str:
    """ "tomorrow at 09:00 EST", "in 2 hours, at 09:00 EST": worked out when the email is
    written, so a reminder sent late after an outage still tells the truth."""
    clock = format_local(starts_at, tz, with_date=False)
    remaining = starts_at - now
    if remaining <= timedelta(hours=12):
        minutes = max(int(remaining.total_seconds() // 60), 1)
        if minutes < 90:
            amount = f"{minutes} minute{'s' if minutes != 1 else ''}"
        else:
            hours = round(minutes / 60)
            amount = f"{hours} hour{'s' if hours != 1 else ''}"
        return f"in {amount}, at {clock}"
    days = (starts_at.astimezone(tz).date() - now.astimezone(tz).date()).days
    if days == 0:
        return f"today at {clock}"
    if days == 1:
        return f"tomorrow at {clock}"
    return f"on {format_local(starts_at, tz)}"


def reminder_email(
    appointment: Appointment,
    questions: list[str],
    own_questions: str | None,
    manage_token: str,
    now: datetime,
    reader: ReaderOf | None = None,
) -> Email:
    """A reminder, rendered when it is due: current time, current question list."""
    timezone = reader.timezone if reader else appointment.patient_timezone
    tz = zone(timezone, current_app.config["CLINIC_TIMEZONE"])
    when = when_phrase(appointment.starts_at, now, tz)
    return _patient_email(
        MessageKind.REMINDER,
        appointment,
        questions,
        own_questions,
        manage_token,
        reader,
        when=when,
    )


def moved_email(
    appointment: Appointment,
    questions: list[str],
    own_questions: str | None,
    manage_token: str,
    reader: ReaderOf | None = None,
    by_reader: str | None = None,
) -> Email:
    """The new time, with the calendar entry updated in place (same UID, higher SEQUENCE);
    the other reader is told who moved it."""
    return _patient_email(
        MessageKind.MOVED,
        appointment,
        questions,
        own_questions,
        manage_token,
        reader,
        by_other=_by_other(appointment, reader, by_reader),
    )


def _by_other(appointment: Appointment, reader: ReaderOf | None, by_reader: str | None):
    """The name of the other reader when they made the change this reader is told of."""
    reader = reader or reader_of(appointment, Reader.PATIENT)
    if not by_reader or by_reader == reader.role:
        return None
    other = reader_of(appointment, by_reader)
    return other.name if other.role == by_reader else None


def cancelled_email(
    appointment: Appointment,
    by_patient: bool,
    category: str | None = None,
    manage_token: str | None = None,
    reader: ReaderOf | None = None,
    by_reader: str | None = None,
) -> Email:
    """The cancellation, with a METHOD:CANCEL calendar entry that removes the event; who
    cancelled (the reader, the other reader, or the clinic, then why: a category, never
    clinical detail); and a link to choose a new time with the answers already given."""
    base = current_app.config["BASE_URL"]
    words = reader_context(appointment, reader)
    reader = words["reader"]
    # "As you asked" only to whoever cancelled; the other reader is told who did.
    by_other = _by_other(appointment, reader, by_reader) if by_patient else None
    return render_email(
        MessageKind.CANCELLED,
        recipient=reader.email,
        ics=build_ics(appointment, cancel=True, reader=reader),
        appointment=appointment,
        by_patient=by_patient,
        by_other=by_other,
        because=choices.label(choices.CANCEL_CATEGORIES, category) if category else None,
        book_link=f"{base}/book",
        rebook_link=f"{base}/manage/{manage_token}/rebook" if manage_token else None,
        **words,
    )


def contact_changed_email(
    appointment: Appointment, recipient: str, changed: str, reader: ReaderOf | None = None
) -> Email:
    """To the address the clinic just replaced (or the email of a replaced phone): which
    detail changed, never the new value, and whom to call if nobody asked for it."""
    words = reader_context(appointment, reader)
    return render_email(
        MessageKind.CONTACT_CHANGED,
        recipient=recipient,
        appointment=appointment,
        changed=changed,
        **words,
    )


def staff_change_email(
    appointment: Appointment,
    recipient: str,
    change: str,
    previous_start: datetime | None = None,
    by: str | None = None,
) -> Email:
    """Tells staff a booking was cancelled or moved, and by whom (a colleague's name, or the
    patient through their link); like every staff email, no intake data."""
    clinic_tz = clinic_zone()
    return render_email(
        MessageKind(f"staff_{change}"),
        recipient=recipient,
        appointment=appointment,
        change=change,
        by=by,
        previous_time=format_local(previous_start, clinic_tz) if previous_start else None,
        mode=choices.label(choices.CONSULT_MODES, appointment.consult_mode),
        staff_link=staff_url(appointment),
        **times(appointment),
    )


def staff_new_booking_email(appointment: Appointment, recipient: str) -> Email:
    """The staff notification: reference, time, mode, urgency and a link; no intake answers."""
    return render_email(
        MessageKind.STAFF_NEW_BOOKING,
        recipient=recipient,
        appointment=appointment,
        mode=choices.label(choices.CONSULT_MODES, appointment.consult_mode),
        staff_link=staff_url(appointment),
        **times(appointment),
    )


def consultant_video_email(
    appointment: Appointment, recipient: str, kind: MessageKind = MessageKind.CONSULTANT_VIDEO
) -> Email:
    """The consultant's notice of a video consult booked, moved or cancelled (``kind`` says
    which): the reference, the time and, unless cancelled, the link; nothing about the
    patient's health."""
    return render_email(
        kind,
        recipient=recipient,
        appointment=appointment,
        change=CONSULTANT_VIDEO_CHANGE[kind],
        staff_link=staff_url(appointment),
        **times(appointment),
    )


def urgent_escalation_email(appointment: Appointment, recipient: str, waited: timedelta) -> Email:
    """Nobody has recorded a call-back in time: the reference, the wait and a link, nothing
    about the symptoms (escalation addresses are inboxes, and inboxes are forwarded)."""
    return render_email(
        MessageKind.URGENT_ESCALATION,
        recipient=recipient,
        appointment=appointment,
        waiting=format_waiting(waited),
        staff_link=staff_url(appointment),
        home_link=f"{current_app.config['BASE_URL']}/staff/",
    )


def worker_late_email(recipient: str, stopped: datetime, back: datetime) -> Email:
    """The worker was not running for a while: when, and where to look first."""
    tz = zone(current_app.config["CLINIC_TIMEZONE"], "UTC")
    return render_email(
        MessageKind.STAFF_WORKER_LATE,
        recipient=recipient,
        stopped=format_local(stopped, tz),
        back=format_local(back, tz),
        gap=format_waiting(back - stopped),
        home_link=f"{current_app.config['BASE_URL']}/staff/",
    )


def waitlist_confirm_email(entry, token: str) -> Email:
    """The one message joining the waitlist sends: follow the link to stay on it. Nothing is
    offered or held before; whoever did not ask can ignore it and is forgotten."""
    return render_email(
        MessageKind.WAITLIST_CONFIRM,
        recipient=entry.email,
        entry=entry,
        entry_link=f"{current_app.config['BASE_URL']}/waitlist/entry/{token}",
    )


def waitlist_offer_email(entry, offer, token: str, entry_token: str) -> Email:
    """A time has come free for someone on the waitlist: when, until when it is kept for
    them, the link that books it, and the one to see or leave the list. Nothing about their
    health (none is on the list)."""
    tz = zone(entry.timezone, current_app.config["CLINIC_TIMEZONE"])
    clinic_tz = zone(current_app.config["CLINIC_TIMEZONE"], "UTC")
    return render_email(
        MessageKind.WAITLIST_OFFER,
        recipient=entry.email,
        entry=entry,
        when=format_local(offer.starts_at, tz),
        clinic_when=None if str(tz) == str(clinic_tz) else format_local(offer.starts_at, clinic_tz),
        until=format_local(offer.expires_at, tz, with_date=False),
        offer_link=f"{current_app.config['BASE_URL']}/waitlist/offer/{token}",
        entry_link=f"{current_app.config['BASE_URL']}/waitlist/entry/{entry_token}",
    )


def _how_briefly(appointment: Appointment, facts: dict, kind: MessageKind) -> str:
    """How the consult happens, in a few words fit for a shared phone's lock screen."""
    if kind == MessageKind.CANCELLED:
        return "Cancelled as you asked." if facts.get("by_patient") else "Cancelled by the clinic."
    if appointment.consult_mode == "video" and appointment.video_link:
        return f"Video link: {appointment.video_link}"
    return "By WhatsApp call." if appointment.consult_mode == "whatsapp" else "By phone call."


def short_text(
    kind: MessageKind,
    channel: Channel,
    appointment: Appointment,
    reader: ReaderOf,
    manage_token: str,
    facts: dict,
) -> Email:
    """A short text on WhatsApp or SMS, from its registered words (``channels.TEXTS``): the
    reference, the time in the reader's zone, how it happens, a link of the reader's own and
    the clinic's phone. Nothing about health: these land on shared phones and lock screens.
    ``html`` holds what the provider is sent (JSON); ``text`` the words as the reader sees
    them, for the staff message log."""
    config = current_app.config
    base = config["BASE_URL"]
    link = f"{base}/manage/{manage_token}"
    if kind == MessageKind.CHANGE_LINK:
        text = fill(CHANGE_LINK_WORDS, [appointment.reference, link, config["CLINIC_PHONE"]])
        return Email(kind, reader.phone, "change_link", text, json.dumps({"text": text}))
    if kind == MessageKind.CANCELLED:
        link = f"{link}/rebook" if facts.get("rebook") else f"{base}/book"
    tz = zone(reader.timezone, config["CLINIC_TIMEZONE"])
    variables = [
        appointment.reference,
        format_local(appointment.starts_at, tz),
        _how_briefly(appointment, facts, kind),
        link,
        config["CLINIC_PHONE"],
    ]
    spec = TEXTS[kind]
    text = fill(spec.words, variables)
    if channel == Channel.SMS:
        template_id = dlt_template_ids(config).get(kind, "")
        return Email(kind, reader.phone, template_id or kind, text, json.dumps({"text": text}))
    payload = {
        "template": config["WHATSAPP_TEMPLATE_PREFIX"] + spec.template,
        "language": config["WHATSAPP_LANGUAGE"],
        "variables": variables,
        "buttons": spec.buttons,
    }
    return Email(kind, reader.phone, payload["template"], text, json.dumps(payload))
