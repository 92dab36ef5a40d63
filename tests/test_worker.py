"""The worker's scheduler: late runs still happen once, and a run sends what is due."""

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler

from booking.extensions import db
from booking.models import OutboundEmail
from booking.worker import JOB_DEFAULTS, add_jobs, run_dispatch


def test_jobs_run_late_rather_than_never_and_never_pile_up(app):
    scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS)
    add_jobs(scheduler, app)
    scheduler.start(paused=True)  # job defaults are applied when the scheduler starts
    try:
        for name in ("run_dispatch", "run_reminders", "run_urgent_escalations"):
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
