"""The front desk corrects a mistyped email and resends the confirmation; the change is
audited with the old and new values; a dead email is shown at the top of the booking."""

import re

import pytest
import sqlalchemy as sa

from booking.core.models import Appointment, AuditEvent, OutboundEmail
from booking.core.statuses import OutboxStatus
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from tests.databases import BOTH_DATABASES
from tests.factories import csrf_for
from tests.test_form_validation import CAREGIVER

pytestmark = BOTH_DATABASES


@pytest.fixture
def mistyped(client, consultant, booking_form, smtp):
    """A booking whose email was mistyped (gmial.com), its confirmation refused by the server
    until it is dead."""
    data = booking_form(patient_email="asha.verma@gmial.com", **CAREGIVER, messages_to="both")
    assert client.post("/book", data=data).status_code == 302
    smtp.sink.refuse.add("asha.verma@gmial.com")
    db.session.execute(sa.update(OutboundEmail).values(attempts=99))
    db.session.commit()
    dispatch_outbox(db.session)
    return db.session.scalar(sa.select(Appointment))


def contact_form(staff_client, reference, **changes):
    """The contact page's form as the browser would send it: each text field's value and
    each choice that is checked."""
    page = staff_client.get(f"/staff/appointments/{reference}/contact").get_data(as_text=True)
    values = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="(\w+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value and ('type="radio"' not in tag or " checked" in tag):
            values[name[1]] = value[1]
    values.update(**changes)
    return values


def test_a_dead_email_is_shown_then_fixed_and_resent(staff_client, mistyped, smtp, app):
    reference = mistyped.reference
    page = staff_client.get(f"/staff/appointments/{reference}").get_data(as_text=True)
    assert "could not be delivered" in page and "asha.verma@gmial.com" in page
    assert "fix the address" in page

    data = contact_form(staff_client, reference, patient_email="asha.verma@gmail.com")
    assert data["booker_name"] == "Ravi Verma"  # the caregiver's details are there to fix too
    response = staff_client.post(f"/staff/appointments/{reference}/contact", data=data)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, mistyped.id).patient_email == "asha.verma@gmail.com"
    [detail] = db.session.scalars(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "contact_corrected")
    ).all()
    assert detail == "email: asha.verma@gmial.com -> asha.verma@gmail.com"
    assert "Melanoma" not in detail
    # The search finds the booking by the corrected address, and no longer by the old one.
    found = staff_client.get("/staff/appointments?date_from=&q=verma@gmail")
    assert reference in found.get_data(as_text=True)
    gone = staff_client.get("/staff/appointments?date_from=&q=gmial")
    assert reference not in gone.get_data(as_text=True)

    token = csrf_for(staff_client, f"/staff/appointments/{reference}")
    response = staff_client.post(
        f"/staff/appointments/{reference}/resend", data={"csrf_token": token}
    )
    assert response.status_code == 302
    assert dispatch_outbox(db.session).sent == 2  # the patient's and the son's, both again
    [message] = [m for m in smtp.messages if m["To"] == "asha.verma@gmail.com"]
    assert reference in message["Subject"]
    link = re.search(r"http://[^/\s]+(/manage/[\w-]+)", message.get_body(("plain",)).get_content())
    assert staff_client.get(link[1]).status_code == 200  # a fresh manage link that works
    page = staff_client.get(f"/staff/appointments/{reference}").get_data(as_text=True)
    assert "could not be delivered" not in page
    assert "confirmation_resent" in db.session.scalars(sa.select(AuditEvent.action)).all()


def test_a_wrong_correction_is_refused_next_to_the_field_with_everything_kept(
    staff_client, mistyped
):
    reference = mistyped.reference
    data = contact_form(
        staff_client, reference, patient_email="asha at gmail", patient_phone="12", booker_name=""
    )
    response = staff_client.post(f"/staff/appointments/{reference}/contact", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter an email address like name@example.com." in page
    assert "Enter a phone number with its country code" in page
    assert "Enter the name of the person who booked." in page
    assert 'value="asha at gmail"' in page and 'value="12"' in page
    db.session.expire_all()
    assert db.session.get(Appointment, mistyped.id).patient_email == "asha.verma@gmial.com"
    assert not db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "contact_corrected")
    ).all()


def test_emails_waiting_for_the_old_address_go_to_the_new_one(
    staff_client, client, consultant, booking_form, smtp
):
    smtp.stop()  # the confirmation waits in the outbox
    assert client.post("/book", data=booking_form(patient_email="old@example.com")).status_code
    appointment = db.session.scalar(sa.select(Appointment))
    data = contact_form(staff_client, appointment.reference, patient_email="new@example.com")
    staff_client.post(f"/staff/appointments/{appointment.reference}/contact", data=data)
    waiting = db.session.scalars(
        sa.select(OutboundEmail.recipient).where(OutboundEmail.kind == "confirmation")
    ).all()
    assert waiting == ["new@example.com"]
    assert OutboxStatus.PENDING in db.session.scalars(sa.select(OutboundEmail.status)).all()


def test_a_changed_email_is_told_to_the_old_address_and_holds_the_data_until_confirmed(
    client, staff_client, consultant, booking_form, smtp
):
    assert client.post("/book", data=booking_form(patient_email="asha@example.com")).status_code
    dispatch_outbox(db.session)
    appointment = db.session.scalar(sa.select(Appointment))
    reference = appointment.reference
    old_link = re.search(r"(/manage/[\w-]+)", smtp.messages[0].get_body(("plain",)).get_content())
    assert client.get(old_link[1]).status_code == 200
    smtp.messages.clear()

    # Someone calls the desk as the patient and has the email changed.
    data = contact_form(staff_client, reference, patient_email="someone.else@example.com")
    assert staff_client.post(f"/staff/appointments/{reference}/contact", data=data).status_code
    dispatch_outbox(db.session)
    [notice] = smtp.messages
    text = notice.get_body(("plain",)).get_content()
    assert notice["To"] == "asha@example.com" and reference in notice["Subject"]
    assert "changed the email address" in text and "please call us now" in text
    assert "someone.else" not in text and "Melanoma" not in text  # no new value, no health
    # The old address's links stop working.
    assert client.get(old_link[1]).status_code == 404

    # The resend sends the confirmation only; its link does not open the data yet.
    token = csrf_for(staff_client, f"/staff/appointments/{reference}")
    staff_client.post(f"/staff/appointments/{reference}/resend", data={"csrf_token": token})
    smtp.messages.clear()
    dispatch_outbox(db.session)
    [confirmation] = smtp.messages
    assert confirmation["To"] == "someone.else@example.com" and "booked" in confirmation["Subject"]
    link = re.search(r"(/manage/[\w-]+)", confirmation.get_body(("plain",)).get_content())[1]
    held = client.get(f"{link}/data").get_data(as_text=True)
    assert "Please call the clinic" in held and "changed recently" in held
    assert "Melanoma" not in held
    assert "melanoma" not in client.get(f"{link}/data.json").get_data(as_text=True).lower()
    # Nor the questionnaire (its answers are health data), and the page says why at once.
    questionnaire = client.get(f"{link}/questionnaire").get_data(as_text=True)
    assert "Please call the clinic" in questionnaire and "<form" not in questionnaire
    manage_page = client.get(link).get_data(as_text=True)
    assert "were changed recently" in manage_page
    assert "See and download everything" not in manage_page

    # The desk calls the number it had, and the patient confirms: the page opens.
    page = staff_client.get(f"/staff/appointments/{reference}").get_data(as_text=True)
    assert "the old address was told" in page
    staff_client.post(
        f"/staff/appointments/{reference}/contact-confirmed",
        data={"csrf_token": csrf_for(staff_client, f"/staff/appointments/{reference}")},
    )
    assert "Melanoma" in client.get(f"{link}/data").get_data(as_text=True)
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "contact_confirmed" in actions


def test_a_patient_who_gets_no_messages_is_not_written_to_about_a_change(
    client, staff_client, consultant, booking_form, smtp
):
    """The son gets the messages and his mother may not know of the consult: changing her
    phone tells nobody at her address."""
    data = booking_form(**CAREGIVER, messages_to="relative", knows_diagnosis="no")
    assert client.post("/book", data=data).status_code == 302
    dispatch_outbox(db.session)
    smtp.messages.clear()
    reference = db.session.scalar(sa.select(Appointment.reference))
    changed = contact_form(staff_client, reference, patient_phone="+91 98765 11111")
    assert staff_client.post(f"/staff/appointments/{reference}/contact", data=changed).status_code
    dispatch_outbox(db.session)
    assert [m["To"] for m in smtp.messages] == []
