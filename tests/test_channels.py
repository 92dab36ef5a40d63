"""WhatsApp and SMS, end to end over real HTTP: the worker sends each text to the local
stand-in in the provider's own wire format, the stand-in answers like the provider and posts
signed statuses and replies back to the served app's webhooks."""

import hashlib
import hmac
import json
import threading
import time
import urllib.request
from datetime import timedelta

import sqlalchemy as sa

from booking.core.models import Appointment, AuditEvent, ChannelOff, OutboundEmail
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from booking.messages.reminders import queue_due_reminders
from booking.messages.texts import twilio_signature
from tests.apps import TEXTS_SETTINGS
from tests.clock import monday_ahead
from tests.databases import BOTH_DATABASES
from tests.factories import add_staff, csrf_for, sign_in
from tests.helpers import csrf_token

CANARY = "Canary-Zebra-Lesion"  # typed into every free-text answer
PHONE = "+919876543210"


def control(provider, path: str, body: dict) -> None:
    request = urllib.request.Request(
        f"{provider.url}/_local/{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=5).read()


def book(book_at, channel="whatsapp", **changes):
    now = monday_ahead()
    result = book_at(
        now + timedelta(days=3),
        now,
        preferred_channel=channel,
        patient_phone=PHONE,
        diagnosis_details=CANARY,
        treatment_details=CANARY,
        own_questions=CANARY,
        **changes,
    )
    return db.session.get(Appointment, result.appointment.id), now


def rows(channel=None):
    db.session.expire_all()
    query = sa.select(OutboundEmail).order_by(OutboundEmail.id)
    if channel:
        query = query.where(OutboundEmail.channel == channel)
    return db.session.scalars(query).all()


def wait_for(check, seconds=10.0):
    """Until ``check()`` is true: webhooks arrive from the stand-in's own thread."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()  # see what the webhook's request committed
        db.session.expire_all()
        if check():
            return
        time.sleep(0.05)
    raise AssertionError("the webhook never arrived")


@BOTH_DATABASES
def test_a_whatsapp_booking_gets_one_confirmation_and_its_reminders_on_time(
    app, consultant, book_at, smtp, texts
):
    appointment, now = book(book_at)
    dispatch_outbox(db.session, now)
    [confirmation] = texts.messages()
    assert confirmation["channel"] == "whatsapp" and confirmation["to"] == PHONE.lstrip("+")
    assert confirmation["template"]["name"] == "consult_booked"
    variables = [p["text"] for p in confirmation["template"]["components"][0]["parameters"]]
    assert variables[0] == appointment.reference and "/manage/" in variables[3]
    # The email, the record with the calendar file, went too.
    assert [m["To"] for m in smtp.messages if m["To"] != "reception@clinic.example"] == [
        appointment.patient_email
    ]

    # Nothing more until the first reminder is due (24 hours before), then exactly one.
    queue_due_reminders(db.session, appointment.starts_at - timedelta(hours=25))
    dispatch_outbox(db.session, appointment.starts_at - timedelta(hours=25))
    assert len(texts.messages()) == 1
    day_before = appointment.starts_at - timedelta(hours=24)
    queue_due_reminders(db.session, day_before)
    queue_due_reminders(db.session, day_before)
    dispatch_outbox(db.session, day_before)
    dispatch_outbox(db.session, day_before)
    reminders = [m for m in texts.messages() if m["template"]["name"] == "consult_reminder"]
    assert len(reminders) == 1
    buttons = [c for c in reminders[0]["template"]["components"] if c["type"] == "button"]
    assert [b["parameters"][0]["payload"] for b in buttons] == [
        f"attend:{appointment.reference}",
        f"change:{appointment.reference}",
    ]
    wait_for(lambda: all(row.delivery == "delivered" for row in rows("whatsapp")))


def test_a_provider_that_refuses_is_retried_with_backoff_then_dead_and_retryable(
    app, consultant, book_at, smtp, texts
):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 3
    appointment, now = book(book_at)
    control(texts, "fail", {"channel": "whatsapp", "status": 429, "times": 1})
    control(texts, "fail", {"channel": "whatsapp", "status": 500, "times": 2})
    dispatch_outbox(db.session, now)
    [row] = rows("whatsapp")
    assert row.status == "pending" and "429" in row.last_error
    assert row.next_attempt_at > now  # backoff: not before its time
    assert dispatch_outbox(db.session, now).claimed == 0
    later = now
    for _ in range(2):
        later = rows("whatsapp")[0].next_attempt_at
        dispatch_outbox(db.session, later)
    [row] = rows("whatsapp")
    assert row.status == "dead" and "500" in row.last_error and texts.messages() == []

    staff = app.test_client()
    add_staff("desk@clinic.example", role="admin")
    assert sign_in(staff, "desk@clinic.example").status_code == 302
    log = staff.get("/staff/emails?channel=whatsapp&status=dead").get_data(as_text=True)
    assert "WhatsApp" in log and "500" in log
    token = csrf_for(staff, "/staff/emails")
    assert (
        staff.post(f"/staff/emails/{row.id}/retry", data={"csrf_token": token}).status_code == 302
    )
    dispatch_outbox(db.session, later)
    assert len(texts.messages()) == 1


def test_a_bad_signature_is_refused_and_changes_nothing(app, client, consultant, book_at, texts):
    appointment, _ = book(book_at)
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "changes": [
                        {
                            "value": {
                                "messages": [
                                    {
                                        "from": PHONE.lstrip("+"),
                                        "id": "wamid.forged",
                                        "type": "button",
                                        "button": {"payload": f"attend:{appointment.reference}"},
                                    }
                                ]
                            }
                        }
                    ]
                }
            ],
        }
    ).encode()
    wrong = hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()
    for headers in ({}, {"X-Hub-Signature-256": f"sha256={wrong}"}):
        response = client.post(
            "/webhooks/whatsapp", data=body, headers=headers, content_type="application/json"
        )
        assert response.status_code == 403
    stop = {"MessageSid": "SMx", "MessageStatus": "delivered"}
    forged = client.post(
        "/webhooks/sms/status", data=stop, headers={"X-Twilio-Signature": "bm90LWl0"}
    )
    assert forged.status_code == 403
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).attendance is None

    # The same body, signed with the app secret, is taken.
    right = hmac.new(TEXTS_SETTINGS["WHATSAPP_APP_SECRET"].encode(), body, hashlib.sha256)
    signed = {"X-Hub-Signature-256": f"sha256={right.hexdigest()}"}
    for _ in range(2):  # providers deliver the same event more than once: it counts once
        response = client.post(
            "/webhooks/whatsapp", data=body, headers=signed, content_type="application/json"
        )
        assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).attendance == "attending"
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("attendance_confirmed") == 1


def test_whatsapps_webhook_check_echoes_the_challenge_only_for_our_token(app, client, texts):
    ok = client.get(
        "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=test-verify-token"
        "&hub.challenge=1158201444"
    )
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"
    wrong = client.get("/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1")
    assert wrong.status_code == 403


def test_delivery_and_i_will_attend_show_on_the_staff_pages(
    app, consultant, book_at, smtp, texts, staff_client
):
    appointment, now = book(book_at)
    day_before = appointment.starts_at - timedelta(hours=24)
    queue_due_reminders(db.session, day_before)
    dispatch_outbox(db.session, day_before)
    wait_for(lambda: all(row.delivery == "delivered" for row in rows("whatsapp")))
    control(texts, "reply", {"from": PHONE, "payload": f"attend:{appointment.reference}"})
    wait_for(lambda: db.session.get(Appointment, appointment.id).attendance == "attending")
    page = staff_client.get(f"/staff/appointments/{appointment.reference}").get_data(as_text=True)
    assert "Attendance confirmed on WhatsApp" in page
    assert "Delivered" in page
    # The same reply delivered twice counts once.
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions.count("attendance_confirmed") == 1


def test_i_need_to_change_is_answered_with_the_readers_manage_link(
    app, client, consultant, book_at, smtp, texts
):
    appointment, now = book(book_at)
    dispatch_outbox(db.session, now)
    control(texts, "reply", {"from": PHONE, "payload": f"change:{appointment.reference}"})
    wait_for(lambda: len(rows("whatsapp")) == 2)
    dispatch_outbox(db.session)
    answer = texts.messages()[-1]
    assert answer["type"] == "text" and appointment.reference in answer["text"]["body"]
    link = answer["text"]["body"].split("link: ")[1].split(" ")[0]
    assert client.get(link.replace(app.config["BASE_URL"], "")).status_code == 200


def test_stop_turns_whatsapp_off_and_later_reminders_go_by_email_only(
    app, consultant, book_at, smtp, texts, staff_client
):
    appointment, now = book(book_at)
    dispatch_outbox(db.session, now)
    control(texts, "reply", {"from": PHONE, "text": "STOP"})
    wait_for(lambda: db.session.scalar(sa.select(ChannelOff.reason)) is not None)
    day_before = appointment.starts_at - timedelta(hours=24)
    queue_due_reminders(db.session, day_before)
    dispatch_outbox(db.session, day_before)
    assert [m["template"]["name"] for m in texts.messages()] == ["consult_booked"]
    assert [m["Subject"].split(":")[0] for m in smtp.messages][-1] == "Reminder"
    page = staff_client.get(f"/staff/appointments/{appointment.reference}").get_data(as_text=True)
    assert "WhatsApp off: STOP sent on WhatsApp" in page


def test_a_number_not_on_whatsapp_falls_back_to_sms_and_staff_see_why(
    app, consultant, book_at, smtp, texts, staff_client
):
    control(texts, "not-on-whatsapp", {"number": PHONE})
    appointment, now = book(book_at)
    dispatch_outbox(db.session, now)
    wait_for(lambda: len(rows("sms")) == 1)
    dispatch_outbox(db.session, now)
    channels = [m["channel"] for m in texts.messages()]
    assert channels == ["whatsapp", "sms"]
    sms = texts.messages()[1]
    assert sms["to"] == PHONE and appointment.reference in sms["body"]
    wait_for(lambda: rows("sms")[0].delivery == "delivered")
    page = staff_client.get(f"/staff/appointments/{appointment.reference}").get_data(as_text=True)
    assert "WhatsApp off: not on WhatsApp" in page


def test_an_sms_status_is_taken_only_with_twilios_signature(
    app, client, consultant, book_at, texts
):
    appointment, now = book(book_at, channel="sms")
    dispatch_outbox(db.session, now)
    [row] = rows("sms")
    url = f"{app.config['BASE_URL']}/webhooks/sms/status"
    params = {"MessageSid": row.provider_id, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    signature = twilio_signature(url, params, TEXTS_SETTINGS["TWILIO_AUTH_TOKEN"])
    assert (
        client.post(url, data=params, headers={"X-Twilio-Signature": signature}).status_code == 200
    )
    [row] = rows("sms")
    assert row.delivery == "failed" and "30003" in row.delivery_error


def test_no_text_or_webhook_carries_the_intake(app, consultant, book_at, smtp, texts):
    appointment, now = book(book_at, urgent=True, red_flags=["fever"])
    day_before = appointment.starts_at - timedelta(hours=24)
    queue_due_reminders(db.session, day_before)
    dispatch_outbox(db.session, day_before)
    for message in texts.messages():
        flat = json.dumps(message)
        for private in (CANARY, "elanoma", "Temperature", "Star Health", "nterferon"):
            assert private not in flat, private


def test_a_channel_without_its_settings_is_off_and_says_so(
    app, consultant, book_at, smtp, staff_client
):
    appointment, now = book(book_at)
    dispatch_outbox(db.session, now)
    assert rows("whatsapp") == []
    assert appointment.patient_email in [m["To"] for m in smtp.messages]
    home = staff_client.get("/staff/").get_data(as_text=True)
    assert "Whatsapp is off: set WHATSAPP_PHONE_NUMBER_ID" in home or "WhatsApp is off" in home


def test_a_reader_stops_texts_on_the_manage_page_and_gets_email_only(
    app, client, consultant, book_at, smtp, texts
):
    appointment, now = book(book_at, channel="sms")
    dispatch_outbox(db.session, now)
    [sms] = texts.messages()
    link = sms["body"].split("cancel: ")[1].split(" ")[0].replace(app.config["BASE_URL"], "")
    page = client.get(link).get_data(as_text=True)
    assert "Stop SMS messages" in page
    response = client.post(f"{link}/stop-texts", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert "Stop SMS messages" not in client.get(link).get_data(as_text=True)
    day_before = appointment.starts_at - timedelta(hours=24)
    queue_due_reminders(db.session, day_before)
    dispatch_outbox(db.session, day_before)
    assert len(texts.messages()) == 1
    assert any(m["Subject"].startswith("Reminder") for m in smtp.messages)
    actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "texts_stopped" in actions


@BOTH_DATABASES
def test_two_workers_send_each_text_once(app, consultant, book_at, smtp, texts):
    """Ten WhatsApp bookings and their reminders, sent by two workers at once: each text
    reaches the provider exactly once."""
    now = monday_ahead()
    starts = now + timedelta(days=3)
    for index in range(10):
        book_at(
            starts + timedelta(minutes=30 * index),
            now,
            index=index,
            preferred_channel="whatsapp",
            patient_phone=f"+9198765432{index:02d}",
        )
    queue_due_reminders(db.session, starts + timedelta(hours=6) - timedelta(hours=24))
    app.config["OUTBOX_BATCH_SIZE"] = 3
    db.session.remove()
    at = starts + timedelta(hours=6) - timedelta(hours=24)

    def work():
        with app.app_context():
            while dispatch_outbox(db.session, at).claimed:
                pass
            db.session.remove()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    sent = [
        (m["to"], m["template"]["name"]) for m in texts.messages() if m["channel"] == "whatsapp"
    ]
    assert len(sent) == len(set(sent)) == 20  # a confirmation and a reminder each
    assert {name for _, name in sent} == {"consult_booked", "consult_reminder"}
