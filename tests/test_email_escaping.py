"""Every email kind shows what a patient (or a colleague) typed as text, never as markup.

The clinic sends these emails to whatever address was typed into a public form, so a name like
``Asha <a href="https://evil.example/x">pay here</a>`` must arrive as those characters, not as a
link in a message that carries the clinic's name.
"""

from datetime import timedelta

import sqlalchemy as sa

from booking.appointments.changes import cancel_appointment, move_and_commit
from booking.core.audit import Actor
from booking.core.models import Appointment, OutboundEmail, PreVisitQuestion
from booking.extensions import db
from booking.intake.urgent_call_backs import escalate_waiting
from booking.messages.reminders import queue_due_reminders
from booking.privacy.erasure import erase
from tests.clock import monday_ahead
from tests.helpers import assert_only_app_markup, write_unwritten_emails

MARKUP = '<a href="https://evil.example/x">pay here</a> <img src=x onerror="alert(1)"> & \'q\' "dq"'
FREE_TEXT_FIELDS = (
    "patient_name",
    "booker_name",
    "booker_relationship",
    "cancer_type_other",
    "diagnosis_details",
    "treatment_details",
    "treating_hospital",
    "insurer",
    "tpa",
    "policy_holder",
    "own_questions",
)
EVERY_KIND = {
    "confirmation",
    "reminder",
    "moved",
    "cancelled",
    "staff_new_booking",
    "staff_moved",
    "staff_cancelled",
    "urgent_escalation",
}


def test_every_html_part_shows_typed_markup_as_text(app, create_consultant, book_at):
    create_consultant(name=f"Dr {MARKUP}")
    text = f"Staff question {MARKUP}"
    db.session.add(PreVisitQuestion(text=text, approved_text=text, position=0, active=True))
    db.session.commit()
    now = monday_ahead()
    starts_at = now + timedelta(days=3)
    hostile = {field: f"{field} {MARKUP}" for field in FREE_TEXT_FIELDS}
    for index, booked_by in enumerate(("self", "caregiver")):
        result = book_at(
            starts_at + timedelta(hours=index),
            now,
            index=index,
            booked_by=booked_by,
            cancer_type="other_solid",
            urgent=True,
            **hostile,
        )
        queue_due_reminders(db.session, starts_at - timedelta(hours=23))
        write_unwritten_emails(db.session)  # before the move withdraws it
        appointment = db.session.get(Appointment, result.appointment.id)
        move_and_commit(
            db.session, appointment, starts_at + timedelta(days=1), now, actor=Actor.patient()
        )
        cancel_appointment(db.session, appointment, now, actor=Actor.patient())
        db.session.commit()
    escalate_waiting(db.session, now + timedelta(hours=2))

    write_unwritten_emails(db.session)
    emails = db.session.scalars(sa.select(OutboundEmail)).all()
    assert {email.kind for email in emails} == EVERY_KIND
    base_url = app.config["BASE_URL"]
    for email in emails:
        parsed = assert_only_app_markup(email.body_html, base_url, email.kind)
        # What was typed reaches the reader as the characters typed.
        if email.kind == "urgent_escalation":
            assert email.appointment.reference in parsed.seen
        elif email.kind.startswith("staff_"):
            assert f"Dr {MARKUP}" in parsed.seen, email.kind
        else:
            relative_copy = email.recipient == email.appointment.booker_email
            greeted = "booker_name" if relative_copy else "patient_name"
            assert f"Hello {hostile[greeted]}," in parsed.seen, email.kind
        if email.kind in {"confirmation", "reminder", "moved"}:
            assert hostile["own_questions"] in parsed.seen, email.kind
            assert f"Staff question {MARKUP}" in parsed.seen, email.kind


def test_the_staff_notice_of_an_erasure_shows_typed_markup_as_text(
    app, consultant, create_staff, book_at
):
    """Erasure blanks the booking's own emails, so its staff notice is checked on its own:
    the admin's name, typed on the accounts page."""
    admin = create_staff("admin@clinic.example", role="admin", name=f"Admin {MARKUP}")
    now = monday_ahead()
    result = book_at(now + timedelta(days=3), now)
    appointment = db.session.get(Appointment, result.appointment.id)
    erase(db.session, appointment, now, Actor.staff(admin.id), "request_by_phone")
    db.session.commit()
    write_unwritten_emails(db.session)
    notices = db.session.scalars(
        sa.select(OutboundEmail).where(OutboundEmail.kind == "staff_erased")
    ).all()
    assert notices
    for email in notices:
        parsed = assert_only_app_markup(email.body_html, app.config["BASE_URL"], email.kind)
        assert f"by Admin {MARKUP}" in parsed.seen
