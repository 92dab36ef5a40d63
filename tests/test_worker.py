"""The worker's scheduler: late runs still happen once, and a run sends what is due."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from booking.core.models import Appointment, OutboundEmail, Reminder, UrgentCase, WorkerHeartbeat
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.worker import (
    JOB_DEFAULTS,
    SENDING,
    add_jobs,
    run_dispatch,
    run_reminders,
    run_retention,
    run_urgent_escalations,
)
from tests.clock import clinic_slot


def test_jobs_run_late_rather_than_never_and_never_pile_up(app):
    scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS)
    add_jobs(scheduler, app)
    scheduler.start(paused=True)  # job defaults are applied when the scheduler starts
    try:
        for name in ("run_dispatch", "run_reminders", "run_urgent_escalations", "run_retention"):
            job = scheduler.get_job(name)
            assert job.misfire_grace_time is None
            assert job.coalesce is True
            assert job.max_instances == 1
    finally:
        scheduler.shutdown(wait=False)


def test_run_dispatch_sends_every_due_email(app, client, consultant, booking_form, smtp):
    app.config["OUTBOX_BATCH_SIZE"] = 1  # several batches in one run
    for index in range(2):
        client.post("/book", data=booking_form(slot_index=index))
    db.session.remove()
    run_dispatch(app)
    assert len(smtp.messages) == 4
    assert set(db.session.scalars(sa.select(OutboundEmail.status))) == {"sent"}


def test_run_dispatch_survives_a_mail_outage(app, client, consultant, booking_form, smtp):
    client.post("/book", data=booking_form())
    smtp.stop()
    db.session.remove()
    run_dispatch(app)  # returns instead of looping or raising
    assert set(db.session.scalars(sa.select(OutboundEmail.status))) == {"pending"}


def test_run_reminders_queues_what_is_due_and_sends_it(app, consultant, book_at, smtp):
    """The worker's reminder job, on the real clock: a reminder that fell due an hour ago goes
    out on the next run, and the one not yet due waits."""
    now = now_utc().replace(minute=0, second=0, microsecond=0)  # on the slot grid
    starts_at = now + timedelta(hours=23)
    if starts_at.astimezone(ZoneInfo("Asia/Kolkata")).time() >= time(23, 30):
        starts_at += timedelta(minutes=30)  # the consultant's day ends at 23:30 clinic time
    book_at(starts_at, now - timedelta(hours=2))  # the 24 h one is due
    db.session.remove()
    run_reminders(app)
    reminders = [m for m in smtp.messages if m["Subject"].startswith("Reminder")]
    assert len(reminders) == 1
    assert reminders[0]["Subject"].startswith(
        ("Reminder: your consult is tomorrow at", "Reminder: your consult is today at")
    )
    statuses = dict(db.session.execute(sa.select(Reminder.offset_minutes, Reminder.status)).all())
    assert statuses == {1440: "queued", 120: "pending"}


def test_run_retention_erases_what_is_past_the_period_on_the_real_clock(app, consultant, book_at):
    """The worker's daily job: a consult that ended longer ago than RETENTION_DAYS loses its
    personal data; one that ended yesterday keeps it."""
    long_ago = clinic_slot(-app.config["RETENTION_DAYS"] - 7)
    old = book_at(long_ago, long_ago - timedelta(days=1), 0, patient_name="Old Patient")
    yesterday = clinic_slot(-1)
    recent = book_at(yesterday, yesterday - timedelta(days=1), 1)
    db.session.remove()
    run_retention(app)
    names = dict(db.session.execute(sa.select(Appointment.id, Appointment.patient_name)).all())
    assert names[old.appointment_id] == "" and names[recent.appointment_id] == "Asha Verma"


def test_one_sender_per_process(app, client, consultant, booking_form, smtp):
    """While this process is already sending, another job's send returns at once."""
    client.post("/book", data=booking_form())
    db.session.remove()
    with SENDING:
        run_dispatch(app)
    assert smtp.messages == []
    run_dispatch(app)
    assert len(smtp.messages) == 2


def test_run_urgent_escalations_emails_about_a_case_nobody_called_on_the_real_clock(
    app, consultant, book_at, smtp, caplog
):
    """The worker's escalation job: an urgent booking made two hours ago that nobody has
    called is escalated once, and the email goes out in the same run. A failing run is logged,
    changes nothing, and the next run does the work."""
    app.config["URGENT_ESCALATION_EMAILS"] = ["lead@clinic.example"]
    app.config["URGENT_ACK_MINUTES"] = 60
    two_hours_ago = now_utc() - timedelta(hours=2)
    book_at(clinic_slot(3), two_hours_ago, urgent=True, red_flags=["fever"])
    db.session.remove()

    app.config["URGENT_ACK_MINUTES"] = "sixty"  # a broken setting makes the run fail
    run_urgent_escalations(app)
    assert "urgent escalation failed; it will run again" in caplog.text
    assert escalations_sent(smtp) == []
    assert db.session.scalar(sa.select(UrgentCase.escalations)) == 0

    app.config["URGENT_ACK_MINUTES"] = 60
    run_urgent_escalations(app)
    [message] = escalations_sent(smtp)
    assert message["Subject"].startswith("Urgent call-back waiting 2 h")
    assert db.session.scalar(sa.select(UrgentCase.escalations)) == 1
    run_urgent_escalations(app)  # not due again for another hour
    assert len(escalations_sent(smtp)) == 1


def escalations_sent(smtp):
    return [m for m in smtp.messages if m["To"] == "lead@clinic.example"]


def test_a_worker_nobody_runs_shows_on_the_staff_home_and_in_the_health_check(
    app, client, staff_client, consultant
):
    # Never ran: said at once.
    home = staff_client.get("/staff/").get_data(as_text=True)
    assert "Reminders and urgent escalations are not being sent: the worker has not run" in home
    assert client.get("/healthz").get_json()["worker"] == "late"
    run_reminders(app)
    home = staff_client.get("/staff/").get_data(as_text=True)
    assert "are not being sent" not in home
    health = client.get("/healthz").get_json()
    assert health["worker"] == "ok" and health["worker_last_ran_seconds_ago"] < 60
    # Killed twelve minutes ago: red on the home page; the health check stays 200.
    db.session.execute(
        sa.update(WorkerHeartbeat).values(last_run_at=now_utc() - timedelta(minutes=12))
    )
    db.session.commit()
    home = staff_client.get("/staff/").get_data(as_text=True)
    assert "not being sent: the worker last ran 12 min ago" in home
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["worker"] == "late"
    assert response.get_json()["worker_last_ran_seconds_ago"] >= 12 * 60
    assert client.get("/readyz").get_json() == {"ready": True}


def test_the_escalation_job_says_when_it_was_not_running(app, smtp):
    app.config["URGENT_ESCALATION_EMAILS"] = ["lead@clinic.example"]
    run_urgent_escalations(app)
    assert escalations_sent(smtp) == []  # the first run has nothing to compare with
    away_since = now_utc() - timedelta(minutes=40)
    db.session.execute(sa.update(WorkerHeartbeat).values(last_run_at=away_since))
    db.session.commit()
    run_urgent_escalations(app)
    [message] = escalations_sent(smtp)
    assert message["Subject"].startswith("The booking service's worker did not run for 40 min")
    text = message.get_body(("plain",)).get_content()
    assert "reminders and urgent escalations may have gone out late" in text
    run_urgent_escalations(app)  # back on time: said once
    assert len(escalations_sent(smtp)) == 1
