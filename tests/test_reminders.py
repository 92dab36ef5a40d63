"""Reminder emails with a controlled clock: the right ones, at the right time, exactly once."""

import re
import threading
from datetime import UTC, datetime, time, timedelta

import icalendar
import pytest
import sqlalchemy as sa

from booking.appointments.changes import cancel_appointment, move_and_commit
from booking.core.audit import Actor
from booking.core.models import Appointment, OutboundEmail, Reminder
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from booking.messages.reminders import queue_due_reminders
from tests.clock import days_after_dst_changes, monday_ahead
from tests.databases import BOTH_DATABASES

START_OF_TEST = monday_ahead()  # the clock is ours, but the manage page reads the real one
STEP = timedelta(minutes=15)


def run_worker(until, start=START_OF_TEST, step=STEP):
    """What the worker does once a minute, at every step of a simulated clock."""
    now = start
    while now <= until:
        queue_due_reminders(db.session, now)
        dispatch_outbox(db.session, now)
        now += step


def reminders_received(smtp):
    return [m for m in smtp.messages if m["Subject"].startswith("Reminder")]


def text_of(message):
    return message.get_body(("plain",)).get_content()


def ics_of(message):
    part = next(p for p in message.iter_attachments() if p.get_content_type() == "text/calendar")
    return icalendar.Calendar.from_ical(part.get_content())


def queued_times():
    return sorted(
        (offset, queued_at)
        for offset, queued_at in db.session.execute(
            sa.select(Reminder.offset_minutes, Reminder.queued_at).where(
                Reminder.status == "queued"
            )
        )
    )


def test_three_days_ahead_gets_two_reminders_at_24h_and_2h(app, client, consultant, book_at, smtp):
    starts_at = START_OF_TEST + timedelta(days=3)
    result = book_at(starts_at, START_OF_TEST)
    run_worker(until=starts_at + timedelta(hours=1))

    received = reminders_received(smtp)
    assert len(received) == 2
    assert queued_times() == [
        (120, starts_at - timedelta(hours=2)),
        (24 * 60, starts_at - timedelta(hours=24)),
    ]
    first, second = received
    assert "tomorrow at" in first["Subject"]
    assert "in 2 hours" in second["Subject"]
    confirmation_uid = None
    for message in received:
        text = text_of(message)
        assert "What is the goal of treatment for me" in text  # general
        assert "melanoma like mine" in text  # for their cancer type
        assert "interferon injections" in text  # for the therapy they ask about
        assert "not finished yet" in text  # the questionnaire, asked again
        assert "Can I keep working during treatment?" in text  # their own
        link = re.search(r"http://[^/\s]+/manage/([\w-]+)", text)[1]
        page = client.get(f"/manage/{link}")
        assert page.status_code == 200
        assert result.appointment.reference in page.get_data(as_text=True)
        event = ics_of(message).walk("VEVENT")[0]
        assert event.decoded("dtstart") == starts_at
        confirmation_uid = confirmation_uid or str(event["uid"])
        assert str(event["uid"]) == confirmation_uid
    assert len({m["Message-ID"] for m in received}) == 2


def test_five_hours_ahead_gets_only_the_2h_reminder(app, consultant, book_at, smtp):
    starts_at = START_OF_TEST + timedelta(hours=5)
    book_at(starts_at, START_OF_TEST)
    run_worker(until=starts_at)
    received = reminders_received(smtp)
    assert len(received) == 1
    assert "in 2 hours" in received[0]["Subject"]


def test_ninety_minutes_ahead_gets_none(app, consultant, book_at, smtp):
    app.config["BOOKING_MIN_NOTICE"] = timedelta(hours=1)
    starts_at = START_OF_TEST + timedelta(minutes=90)
    book_at(starts_at, START_OF_TEST)
    run_worker(until=starts_at)
    assert reminders_received(smtp) == []
    confirmation = [m for m in smtp.messages if "is booked" in m["Subject"]]
    assert "What is the goal of treatment for me" in text_of(confirmation[0])


def test_cancelled_five_minutes_before_a_reminder_is_due(app, consultant, book_at, smtp):
    starts_at = START_OF_TEST + timedelta(days=3)
    result = book_at(starts_at, START_OF_TEST)
    due = starts_at - timedelta(hours=24)
    run_worker(until=due - timedelta(minutes=15))

    appointment = db.session.get(Appointment, result.appointment.id)
    cancel_appointment(db.session, appointment, due - timedelta(minutes=5), actor=Actor.patient())
    db.session.commit()
    # Cancelling itself cancels them, before any worker run could skip them for being late.
    assert set(db.session.scalars(sa.select(Reminder.status))) == {"cancelled"}
    run_worker(
        start=due - timedelta(minutes=5),
        until=starts_at + timedelta(hours=1),
        step=timedelta(minutes=5),
    )

    assert reminders_received(smtp) == []
    assert set(db.session.scalars(sa.select(Reminder.status))) == {"cancelled"}
    confirmation = next(m for m in smtp.messages if "is booked" in m["Subject"])
    cancellation = next(m for m in smtp.messages if "cancelled" in m["Subject"])
    before = ics_of(confirmation)
    after = ics_of(cancellation)
    assert after["method"] == "CANCEL"
    assert str(after.walk("VEVENT")[0]["uid"]) == str(before.walk("VEVENT")[0]["uid"])
    assert int(after.walk("VEVENT")[0]["sequence"]) > int(before.walk("VEVENT")[0]["sequence"])


def test_cancel_withdraws_a_reminder_still_waiting_in_the_outbox(app, consultant, book_at, smtp):
    starts_at = START_OF_TEST + timedelta(days=3)
    result = book_at(starts_at, START_OF_TEST)
    dispatch_outbox(db.session, START_OF_TEST)  # the confirmation goes out
    due = starts_at - timedelta(hours=24)
    smtp.stop()
    queue_due_reminders(db.session, due)
    dispatch_outbox(db.session, due)  # the reminder cannot be sent: the server is down
    appointment = db.session.get(Appointment, result.appointment.id)
    cancel_appointment(db.session, appointment, due + timedelta(minutes=1), actor=Actor.patient())
    db.session.commit()

    smtp.start()
    app.config["MAIL_PORT"] = smtp.port
    run_worker(start=due + timedelta(hours=1), until=starts_at)
    assert reminders_received(smtp) == []
    statuses = dict(db.session.execute(sa.select(OutboundEmail.kind, OutboundEmail.status)).all())
    assert statuses["reminder"] == "withdrawn"
    assert statuses["cancelled"] == "sent"


def test_moved_reminders_follow_the_new_time(app, consultant, book_at, smtp):
    old_start = START_OF_TEST + timedelta(days=3)
    new_start = START_OF_TEST + timedelta(days=5, hours=6)
    result = book_at(old_start, START_OF_TEST)
    moved_at = START_OF_TEST + timedelta(days=1)
    run_worker(until=moved_at)
    appointment = db.session.get(Appointment, result.appointment.id)
    move_and_commit(db.session, appointment, new_start, moved_at, actor=Actor.patient())
    run_worker(start=moved_at, until=new_start + timedelta(hours=1))

    received = reminders_received(smtp)
    assert len(received) == 2
    assert queued_times() == [
        (120, new_start - timedelta(hours=2)),
        (24 * 60, new_start - timedelta(hours=24)),
    ]
    for message in received:
        assert ics_of(message).walk("VEVENT")[0].decoded("dtstart") == new_start
        assert int(ics_of(message).walk("VEVENT")[0]["sequence"]) == 1
    moved = next(m for m in smtp.messages if "has moved" in m["Subject"])
    assert ics_of(moved).walk("VEVENT")[0].decoded("dtstart") == new_start


def test_moved_after_a_reminder_went_out_gets_it_again_only_if_due_again(
    app, consultant, book_at, smtp
):
    start = START_OF_TEST + timedelta(days=3)
    result = book_at(start, START_OF_TEST)
    after_first = start - timedelta(hours=23)
    run_worker(until=after_first)
    assert len(reminders_received(smtp)) == 1  # the 24 h one
    # Moved 30 minutes earlier: its 24 h point has passed, so that reminder is not repeated.
    appointment = db.session.get(Appointment, result.appointment.id)
    move_and_commit(
        db.session, appointment, start - timedelta(minutes=30), after_first, actor=Actor.patient()
    )
    run_worker(start=after_first, until=start)
    assert len(reminders_received(smtp)) == 2  # only the 2 h one more


def test_worker_down_across_the_due_time_sends_late_once(app, consultant, book_at, smtp):
    starts_at = START_OF_TEST + timedelta(days=3)
    book_at(starts_at, START_OF_TEST)
    run_worker(until=starts_at - timedelta(hours=30))
    # The worker is down from 30 hours before until 3 hours before the consult.
    restart = starts_at - timedelta(hours=3)
    run_worker(start=restart, until=restart)
    late = reminders_received(smtp)
    assert len(late) == 1
    assert "in 3 hours" in late[0]["Subject"]  # it tells the truth about the time left
    run_worker(start=restart, until=starts_at + timedelta(hours=1))
    assert len(reminders_received(smtp)) == 2  # then the 2 h reminder, on time


def test_worker_down_across_both_reminders_sends_only_one(app, consultant, book_at, smtp):
    starts_at = START_OF_TEST + timedelta(days=3)
    book_at(starts_at, START_OF_TEST)
    restart = starts_at - timedelta(minutes=45)
    run_worker(start=restart, until=starts_at + timedelta(hours=1))
    received = reminders_received(smtp)
    assert len(received) == 1
    assert "in 45 minutes" in received[0]["Subject"]


def test_worker_restarted_after_the_consult_began_skips(app, consultant, book_at, smtp):
    starts_at = START_OF_TEST + timedelta(days=3)
    book_at(starts_at, START_OF_TEST)
    run_worker(start=starts_at + timedelta(minutes=5), until=starts_at + timedelta(hours=2))
    assert reminders_received(smtp) == []
    assert set(db.session.scalars(sa.select(Reminder.status))) == {"skipped"}


@pytest.mark.parametrize(
    ("change", "new_york", "kolkata", "utc_hour"),
    [
        # The day after the spring change: EDT, UTC-4.
        (0, "09:00 EDT", "18:30 IST", 13),
        # The day after the autumn change: EST, UTC-5.
        (1, "09:00 EST", "19:30 IST", 14),
    ],
)
def test_reminder_across_daylight_saving(
    app, consultant, book_at, smtp, change, new_york, kolkata, utc_hour
):
    consult_day = days_after_dst_changes("America/New_York")[change]
    starts_at = datetime.combine(consult_day, time(utc_hour), UTC)
    booked = starts_at - timedelta(days=5)
    book_at(starts_at, booked, patient_timezone="America/New_York")
    due = db.session.scalar(sa.select(Reminder.due_at).where(Reminder.offset_minutes == 1440))
    assert due == starts_at - timedelta(hours=24)

    queue_due_reminders(db.session, due - timedelta(minutes=1))
    assert reminders_received(smtp) == []
    queue_due_reminders(db.session, due)
    dispatch_outbox(db.session, due)
    [reminder] = reminders_received(smtp)
    text = text_of(reminder)
    assert f"tomorrow at {new_york}" in reminder["Subject"]
    assert f"{new_york} (America/New_York)" in text
    assert f"{kolkata} at the clinic (Asia/Kolkata)" in text


def test_reminder_on_the_morning_of_a_clock_change_comes_24_real_hours_before(
    app, consultant, book_at, smtp
):
    """09:00 on the day New York springs forward is 23 real hours after 09:00 the day before:
    "the same time yesterday" on the wall clock would send the 24-hour reminder an hour late."""
    change_day = days_after_dst_changes("America/New_York")[0] - timedelta(days=1)
    starts_at = datetime.combine(change_day, time(13), UTC)  # 09:00 EDT
    book_at(starts_at, starts_at - timedelta(days=5), patient_timezone="America/New_York")
    due = db.session.scalar(sa.select(Reminder.due_at).where(Reminder.offset_minutes == 1440))
    assert due == starts_at - timedelta(hours=24)  # 08:00 EST the day before
    queue_due_reminders(db.session, due - timedelta(minutes=1))
    dispatch_outbox(db.session, due)
    assert reminders_received(smtp) == []
    queue_due_reminders(db.session, due)
    dispatch_outbox(db.session, due)
    [reminder] = reminders_received(smtp)
    assert "tomorrow at 09:00 EDT" in reminder["Subject"]


@pytest.mark.load
@BOTH_DATABASES
def test_two_workers_two_hundred_reminders_no_duplicates(app, create_consultant, book_at, smtp):
    app.config["REMINDER_OFFSETS"] = [timedelta(hours=24)]
    app.config["OUTBOX_BATCH_SIZE"] = 25
    for index in range(5):
        create_consultant(f"Dr {index}")
    day = START_OF_TEST + timedelta(days=2, hours=20)  # 01:30 in Kolkata: 40 slots fit the day
    booked = 0
    for slot in range(48):
        for _ in range(5):
            if booked == 200:
                break
            book_at(day + slot * timedelta(minutes=30), START_OF_TEST, index=booked)
            booked += 1
    db.session.execute(sa.update(OutboundEmail).values(status="sent"))  # confirmations aside
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 200
    now = day - timedelta(minutes=1)  # every reminder is due, no consult has started
    db.session.remove()

    def worker():
        with app.app_context():
            while True:
                queued = queue_due_reminders(db.session, now, limit=20).claimed
                sent = dispatch_outbox(db.session, now).claimed
                if not queued and not sent:
                    break
            db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    received = reminders_received(smtp)
    assert len(received) == 200
    assert len({m["Message-ID"] for m in received}) == 200
    assert len({m["To"] for m in received}) == 200
