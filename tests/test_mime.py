"""The outbox writes each message's bytes itself: what arrives must read back, in any script,
exactly as written, with the calendar file attached."""

import sqlalchemy as sa

from booking.core.models import OutboundEmail
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from tests.factories import add_written_message

HINDI = "आपका परामर्श — सोमवार 30 नवंबर, 11:30"
LONG_LINE = "क्या मैं इलाज के दौरान काम कर सकता हूँ? " * 60  # one paragraph, far over 998 bytes
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"


def test_what_arrives_reads_back_as_written(app, smtp):
    app.config["MAIL_DEFAULT_SENDER"] = "Clinic Consults — परामर्श <consults@clinic.example>"
    text = f"{HINDI}\n\n{LONG_LINE}\nA line that starts with a dot follows.\n.\nEnd."
    html = f"<p>{HINDI}</p><p>{LONG_LINE}</p>"
    add_written_message("patient@example.com", HINDI, text, html, now_utc(), ICS)
    db.session.commit()
    assert dispatch_outbox(db.session).sent == 1

    [message] = smtp.messages
    assert message["Subject"] == HINDI
    assert message["To"] == "patient@example.com"
    assert message["From"].addresses[0].display_name == "Clinic Consults — परामर्श"
    assert message["Reply-To"] == app.config["CLINIC_EMAIL"]
    assert message["Message-ID"] == db.session.scalar(sa.select(OutboundEmail.message_id))
    assert message.get_body(("plain",)).get_content().replace("\r\n", "\n").rstrip("\n") == text
    assert message.get_body(("html",)).get_content().strip() == html
    [calendar] = list(message.iter_attachments())
    assert calendar.get_filename() == "consult.ics"
    assert calendar.get_content_type() == "text/calendar"
    assert calendar.get_param("method") == "CANCEL"
    assert calendar.get_content().replace("\r\n", "\n") == ICS.replace("\r\n", "\n")


def test_a_message_without_a_calendar_file_has_no_attachment(app, smtp):
    add_written_message("p@example.com", "Hello", "Text", "<p>Html</p>", now_utc())
    db.session.commit()
    assert dispatch_outbox(db.session).sent == 1
    [message] = smtp.messages
    assert list(message.iter_attachments()) == []
    assert message.get_body(("plain",)).get_content().strip() == "Text"
