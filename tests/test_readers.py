"""A son books for his mother: every message goes to the people chosen, each spoken to in
their own voice, at times in their own zone, with a manage link of their own; a mother who
does not yet know her diagnosis gets nothing that names it."""

import re
from datetime import timedelta

import sqlalchemy as sa

from booking.appointments.changes import cancel_appointment, move_and_commit
from booking.core.audit import Actor
from booking.core.models import Appointment, AuditEvent
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from booking.messages.reminders import queue_due_reminders
from tests.clock import monday_ahead
from tests.databases import BOTH_DATABASES
from tests.factories import csrf_for
from tests.helpers import csrf_token

MOTHER, SON = "kamla@example.com", "ravi@example.com"
BY_HER_SON = {
    "booked_by": "caregiver",
    "patient_name": "Kamla Devi",
    "patient_email": MOTHER,
    "booker_name": "Ravi Kumar",
    "booker_relationship": "son",
    "booker_email": SON,
    "booker_phone": "+919123456789",
    "relative_channel": "email",
}
# What must never reach a patient who does not yet know: the diagnosis, the treatment, the
# question list, the symptoms, the crisis line.
TELLING = ("elanoma", "cancer", "nterferon", "Tele-MANAS", "Questions to ask", "questionnaire")


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def send_all(smtp, to: str, at=None) -> list:
    """Send everything due by ``at`` (by default: now, or an hour before a consult booked on
    the tests' Monday ahead for three days later, after its first reminder), and return what
    reached ``to``."""
    at = at or max(now_utc(), monday_ahead() + timedelta(days=2, hours=23))
    while dispatch_outbox(db.session, at).claimed:
        pass
    return [message for message in smtp.messages if message["To"] == to]


def book(book_at, **changes):
    now = monday_ahead()
    result = book_at(now + timedelta(days=3), now, **{**BY_HER_SON, **changes})
    return db.session.get(Appointment, result.appointment.id), now


@BOTH_DATABASES
def test_a_son_who_chose_me_gets_every_message_and_his_mother_none(app, consultant, book_at, smtp):
    appointment, now = book(book_at, patient_agrees="not_yet", messages_to="relative")
    queue_due_reminders(db.session, appointment.starts_at - timedelta(hours=23))
    to_son = send_all(smtp, SON)
    move_and_commit(
        db.session, appointment, appointment.starts_at + timedelta(days=1), now, Actor.patient()
    )
    appointment = db.session.get(Appointment, appointment.id)
    cancel_appointment(db.session, appointment, now, Actor.staff(consultant.id), category="other")
    db.session.commit()

    to_son = send_all(smtp, SON)
    assert send_all(smtp, MOTHER) == []
    subjects = [message["Subject"] for message in to_son]
    assert len(subjects) == 4
    assert subjects[0].startswith("The free consult for Kamla Devi is booked: ")
    assert subjects[1].startswith("Reminder: the consult for Kamla Devi is ")
    assert subjects[2].startswith("The consult for Kamla Devi has moved to ")
    assert subjects[3] == f"The consult for Kamla Devi ({appointment.reference}) is cancelled"
    for message in to_son:
        assert text_of(message).startswith("Hello Ravi Kumar,")
    assert "You booked a free consult for Kamla Devi." in text_of(to_son[0])
    assert "the free consult for Kamla Devi" in text_of(to_son[1])


@BOTH_DATABASES
def test_both_get_their_own_voice_and_link_and_a_cancellation_says_who_made_it(
    app, client, consultant, book_at, smtp
):
    app.config["STAFF_NOTIFY_EMAILS"] = ["desk@clinic.example"]
    appointment, _ = book(book_at, patient_agrees="yes", messages_to="both")
    [mother] = send_all(smtp, MOTHER)
    [son] = send_all(smtp, SON)
    assert text_of(mother).startswith(
        "Hello Kamla Devi,\r\nYour son Ravi Kumar booked a free consult for you."
    )
    assert text_of(son).startswith("Hello Ravi Kumar,\r\nYou booked a free consult for Kamla Devi.")
    # The phone call goes to the patient: the son is told whom we will call.
    assert "We will call Kamla Devi on +91 98765 43210" in text_of(son)
    assert "We will call you on +91 98765 43210" in text_of(mother)
    links = [re.search(r"/manage/[\w-]+", text_of(m))[0] for m in (mother, son)]
    assert links[0] != links[1]

    # The son cancels with his own link.
    page = client.get(f"{links[1]}/cancel").get_data(as_text=True)
    response = client.post(f"{links[1]}/cancel", data={"csrf_token": csrf_token(page)})
    assert response.status_code in (302, 303)
    [cancelled] = [m for m in send_all(smtp, MOTHER) if "cancelled" in m["Subject"]]
    assert f"Ravi Kumar cancelled your free consult {appointment.reference}" in text_of(cancelled)
    [his] = [m for m in send_all(smtp, SON) if "cancelled" in m["Subject"]]
    assert "As you asked, the free consult for Kamla Devi" in text_of(his)
    [staff] = [m for m in send_all(smtp, "desk@clinic.example") if "Cancelled" in m["Subject"]]
    assert "by Ravi Kumar, the patient's son, with the link in their email" in text_of(staff)


def test_a_mother_who_does_not_yet_know_gets_nothing_that_names_it(app, consultant, book_at, smtp):
    appointment, _ = book(
        book_at,
        patient_agrees="not_yet",
        messages_to="both",
        urgent=True,
        red_flags=["fever", "self_harm"],
    )
    queue_due_reminders(db.session, appointment.starts_at - timedelta(hours=23))
    db.session.commit()
    to_mother, to_son = send_all(smtp, MOTHER), send_all(smtp, SON)
    assert len(to_mother) == len(to_son) == 2  # the confirmation and a reminder each
    for message in to_mother:
        for part in (text_of(message), message.get_body(("html",)).get_content()):
            for word in TELLING:
                assert word not in part, (message["Subject"], word)
        assert "If you feel very unwell, call 112 or 108" in text_of(message)
    # The son's copy carries what the consult is about, and the urgent guidance.
    assert "Questions to ask at the consult" in text_of(to_son[0])
    assert "If Kamla Devi is thinking of self-harm" in text_of(to_son[0])


def test_left_unanswered_it_goes_to_the_son_alone_when_she_does_not_know(
    app, client, consultant, booking_form, smtp
):
    data = booking_form(
        **{**BY_HER_SON, "booker_phone": "+91 91234 56789"}, patient_agrees="not_yet"
    )
    assert client.post("/book", data=data).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.messages_to == "relative"
    page = client.get("/book/confirmed").get_data(as_text=True)
    assert f"We have emailed a confirmation to you ({SON})" in page
    assert MOTHER not in page
    assert send_all(smtp, MOTHER) == [] and len(send_all(smtp, SON)) == 1


def test_a_daughter_abroad_reads_her_time_and_her_mother_reads_the_clinics(
    app, client, consultant, booking_form, smtp
):
    daughter = {
        **BY_HER_SON,
        "booker_name": "Priya",
        "booker_relationship": "daughter",
        "booker_email": "priya@example.com",
    }
    data = booking_form(tz="America/New_York", **daughter, patient_agrees="yes", messages_to="both")
    assert client.post("/book", data=data).status_code == 302
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.patient_timezone == "Asia/Kolkata"
    assert appointment.relative_timezone == "America/New_York"
    [mother] = send_all(smtp, MOTHER)
    [priya] = send_all(smtp, "priya@example.com")
    assert " IST " in mother["Subject"] and (
        " EST " in priya["Subject"] or " EDT " in priya["Subject"]
    )


def test_the_urgent_list_shows_the_number_of_whoever_gets_the_calls(
    app, staff_client, consultant, book_at
):
    appointment, _ = book(
        book_at, patient_agrees="not_yet", messages_to="relative", urgent=True, red_flags=["fever"]
    )
    home = staff_client.get("/staff/").get_data(as_text=True)
    assert 'href="tel:+919123456789"' in home and "Ravi Kumar, the patient&#39;s son" in home
    assert 'href="tel:+919876543210"' not in home
    page = staff_client.get(f"/staff/appointments/{appointment.reference}").get_data(as_text=True)
    assert "we would call Ravi Kumar, the patient&#39;s son on" in page


@BOTH_DATABASES
def test_staff_change_who_gets_the_messages_and_it_is_logged(
    app, staff_client, consultant, book_at, smtp
):
    appointment, _ = book(book_at, patient_agrees="not_yet", messages_to="relative")
    path = f"/staff/appointments/{appointment.reference}/contact"
    page = staff_client.get(path).get_data(as_text=True)
    values = {
        "csrf_token": csrf_for(staff_client, path),
        "patient_name": "Kamla Devi",
        "patient_email": MOTHER,
        "patient_phone": "+919876543210",
        "preferred_channel": "email",
        "booker_name": "Ravi Kumar",
        "booker_email": SON,
        "booker_phone": "+919123456789",
        "relative_channel": "email",
        "messages_to": "both",
    }
    assert re.search(r'<input checked [^>]*name="messages_to" [^>]*value="relative"', page)
    assert staff_client.post(path, data=values).status_code == 302
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).messages_to == "both"
    detail = db.session.scalar(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "contact_corrected")
    )
    assert detail == "messages go to: relative -> both"


def test_a_move_by_the_son_is_told_to_his_mother_and_to_staff_as_his(
    app, consultant, book_at, smtp
):
    app.config["STAFF_NOTIFY_EMAILS"] = ["desk@clinic.example"]
    appointment, now = book(book_at, patient_agrees="yes", messages_to="both")
    by_son = Actor.patient(reader="relative")
    move_and_commit(
        db.session, appointment, appointment.starts_at + timedelta(hours=1), now, by_son
    )
    [hers] = [m for m in send_all(smtp, MOTHER) if "moved" in m["Subject"]]
    assert "Ravi Kumar moved your free consult to a new time." in text_of(hers)
    [his] = [m for m in send_all(smtp, SON) if "moved" in m["Subject"]]
    assert "The free consult for Kamla Devi has moved to a new time." in text_of(his)
    [staff] = [m for m in send_all(smtp, "desk@clinic.example") if "Moved" in m["Subject"]]
    assert "by Ravi Kumar, the patient's son, with the link in their email" in text_of(staff)


def test_a_mother_who_does_not_know_finds_nothing_about_it_behind_her_own_link(
    app, client, consultant, book_at, smtp
):
    appointment, _ = book(book_at, patient_agrees="not_yet", messages_to="both")
    [mother] = send_all(smtp, MOTHER)
    assert mother["From"].addresses[0].display_name == "Consult booking"
    [calendar] = list(mother.iter_attachments())
    assert "Free consult with Consult booking" in calendar.get_content()
    link = re.search(r"/manage/[\w-]+", text_of(mother))[0]
    page = client.get(link).get_data(as_text=True)
    assert "Melanoma" not in page and "Tele-MANAS" not in page
    assert "/data" not in page and "questionnaire" not in page.lower()
    for behind in ("/data", "/data.json", "/questionnaire", "/delete", "/withdraw"):
        shown = client.get(link + behind).get_data(as_text=True)
        assert "Please call the clinic" in shown and "elanoma" not in shown, behind
    # Her son's link shows him everything, from the clinic by its name.
    [son] = send_all(smtp, SON)
    assert son["From"].addresses[0].display_name == app.config["CLINIC_NAME"]
    his = re.search(r"/manage/[\w-]+", text_of(son))[0]
    assert "Melanoma" in client.get(his + "/data").get_data(as_text=True)
