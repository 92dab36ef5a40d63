"""Command-line tasks: ``flask --app booking <command>``."""

from __future__ import annotations

import os
import secrets
import signal
import sys
from datetime import UTC, time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from werkzeug.serving import run_simple
from wtforms.validators import ValidationError

from .core import backups, crypto
from .core.audit import Actor
from .core.crypto import EncryptedText
from .core.models import Appointment, StaffUser, WeeklyHours
from .core.statuses import StaffRole
from .core.timeutil import now_utc
from .extensions import db
from .intake.clinical_review import waiting
from .messages.channels import channel_notes
from .messages.local_provider import LocalProvider, Settings
from .privacy.erasure import erase
from .scheduling.availability import set_weekly_hours
from .staff_accounts.accounts import PasswordRejected, new_staff_user, reset_password
from .web.booking_form import checked_email


def register(app: Flask) -> None:
    for command in (
        create_staff,
        reset_password_command,
        erase_command,
        set_hours,
        seed_demo,
        rotate_keys,
        generate_key,
        worker,
        serve,
        clinical_review_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)


@click.command("backup")
@click.argument("folder", type=click.Path(path_type=Path))
def backup_command(folder: Path) -> None:
    """Write a consistent copy of the database and a manifest into FOLDER (new or empty).

    The copy holds health answers encrypted with ENCRYPTION_KEYS: keep the keys too, but
    apart from the backups, or the copy cannot be read."""
    try:
        manifest = backups.backup(
            db.engine, folder, current_app.config["ENCRYPTION_KEYS"], now_utc()
        )
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    total = sum(manifest["rows"].values())
    click.echo(f"Backed up {total} rows at revision {manifest['revision']} into {folder}.")


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(folder: Path) -> None:
    """Bring the backup in FOLDER back into an empty database, and check every row is back.
    Needs at least one of the encryption keys the backup was made with."""
    try:
        manifest = backups.restore(db.engine, folder, current_app.config["ENCRYPTION_KEYS"])
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored the backup of {manifest['made_at']}: every table has its rows.")


@click.command("clinical-review")
def clinical_review_command():
    """Print the clinical text still waiting for a clinician's sign-off (the staff "Clinical
    review" page approves it); exit status 1 while anything waits."""
    items = waiting(db.session)
    for item in items:
        click.echo(f"- {item.title} ({item.why})")
    if not items:
        click.echo("Every piece of clinical text is signed by a clinician.")
    sys.exit(1 if items else 0)


def add_staff(email: str, name: str, role: str, consultant: bool, password: str) -> StaffUser:
    try:
        email = checked_email(email.strip()).lower()
    except ValidationError as error:
        raise click.ClickException(f"email refused: {error}") from None
    try:
        user = new_staff_user(email, name, role, consultant, password)
    except PasswordRejected as error:
        raise click.ClickException(f"password refused: {error}") from None
    db.session.add(user)
    return user


@click.command("create-staff")
@click.argument("email")
@click.option("--name", required=True)
@click.option(
    "--role",
    type=click.Choice([role.value for role in StaffRole]),
    default=StaffRole.STAFF.value,
    show_default=True,
)
@click.option("--consultant", is_flag=True, help="Takes consults (give hours with set-hours).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_staff(email, name, role, consultant, password_stdin):
    """Create a staff account (the first admin, or more later)."""
    if db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email.strip().lower())):
        raise click.ClickException(f"{email} already has an account")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    add_staff(email, name, role, consultant, password)
    db.session.commit()
    click.echo(f"Created {role} {email}{' (consultant)' if consultant else ''}.")


@click.command("reset-password")
@click.argument("email")
def reset_password_command(email):
    """Give a staff account a new temporary password, shown once (for a forgotten one, or the
    demo admin's after a restart). Every session of that account ends."""
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"there is no staff account {email}")
    password = reset_password(user)
    db.session.commit()
    click.echo(f"New temporary password for {user.email} (shown once): {password}")


@click.command("erase")
@click.option("--reference", required=True, help="The booking's reference, e.g. CT-7K3M9Q.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_command(reference, yes):
    """Erase one booking's personal data, for a request that reached the operator (the same
    erasure as the patient's "Delete my data"; staff are told)."""
    appointment = db.session.scalar(
        sa.select(Appointment).where(Appointment.reference == reference.strip().upper())
    )
    if appointment is None:
        raise click.ClickException(f"there is no booking {reference}")
    if appointment.erased_at is not None:
        erased_on = f"{appointment.erased_at:%Y-%m-%d}"
        click.echo(f"{appointment.reference} was already erased on {erased_on}.")
        return
    if not yes:
        click.confirm(
            f"Erase the personal data of {appointment.reference} ({appointment.status},"
            f" {appointment.starts_at:%Y-%m-%d %H:%M} UTC)? This cannot be undone",
            abort=True,
        )
    erase(db.session, appointment, now_utc(), Actor.system(), "operator")
    db.session.commit()
    click.echo(f"Erased the personal data of {appointment.reference}.")


@click.command("set-hours")
@click.argument("email")
@click.argument("hours", nargs=-1, required=True)
def set_hours(email, hours):
    """Replace a consultant's weekly hours, e.g. set-hours a@b.c "mon-fri 09:00-17:00"."""
    user = db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None or not user.is_consultant:
        raise click.ClickException(f"{email} is not a consultant")
    try:
        blocks = set_weekly_hours(user, list(hours))
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    db.session.commit()
    click.echo(f"{email} now has {blocks} blocks of weekly hours.")


@click.command("seed-demo")
def seed_demo():
    """Two consultants (Mon-Fri 09:00-17:00) and one admin, only into an empty database."""
    if db.session.scalar(sa.select(sa.func.count(StaffUser.id))):
        click.echo("Staff accounts exist already; demo data not added.")
        click.echo(
            "Admin password forgotten? flask --app booking reset-password admin@clinic.example"
        )
        return
    for email, name in (
        ("asha.rao@clinic.example", "Dr Asha Rao"),
        ("vikram.mehta@clinic.example", "Dr Vikram Mehta"),
    ):
        consultant = add_staff(email, name, StaffRole.STAFF, True, secrets.token_urlsafe(18))
        consultant.hours = [
            WeeklyHours(weekday=day, start_time=time(9), end_time=time(17)) for day in range(5)
        ]
    password = secrets.token_urlsafe(12)
    admin = add_staff("admin@clinic.example", "Clinic admin", StaffRole.ADMIN, False, password)
    admin.must_change_password = True  # printed on a terminal: a temporary password
    db.session.commit()
    click.echo("Demo data added: two consultants with Mon-Fri 09:00-17:00 hours.")
    click.echo(f"Admin sign-in (shown once): admin@clinic.example / {password}")
    click.echo(
        "At the first sign-in you set up two-factor sign-in with an authenticator app on your"
        " phone, then choose your own password."
    )


@click.command("rotate-keys")
@click.option("--batch-size", default=500, show_default=True)
def rotate_keys(batch_size):
    """Re-encrypt every encrypted value with the first key in ENCRYPTION_KEYS."""
    fernet = crypto.fernet()
    total = 0
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        if not columns:
            continue
        raw = [sa.type_coerce(c, sa.Text).label(c.name) for c in columns]
        update = (
            table.update()
            .where(table.c.id == sa.bindparam("row_id"))
            .values({c.name: sa.bindparam(f"new_{c.name}", type_=sa.Text) for c in columns})
        )
        last_id = 0
        while True:
            rows = db.session.execute(
                sa.select(table.c.id, *raw)
                .where(table.c.id > last_id)
                .order_by(table.c.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            params = []
            for row in rows:
                values = {"row_id": row.id}
                for column in columns:
                    token = getattr(row, column.name)
                    values[f"new_{column.name}"] = (
                        None if token is None else fernet.rotate(token.encode()).decode()
                    )
                params.append(values)
            db.session.execute(update, params)
            db.session.commit()
            total += len(rows)
            last_id = rows[-1].id
    click.echo(f"Re-encrypted {total} rows with the first key.")


@click.command("generate-key")
def generate_key():
    """Print a new Fernet key for ENCRYPTION_KEYS."""
    click.echo(crypto.generate_key())


def _scheduler_for(app: Flask, blocking: bool):
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    from .worker import JOB_DEFAULTS, add_jobs

    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(job_defaults=JOB_DEFAULTS, timezone=UTC)
    add_jobs(scheduler, app)
    return scheduler


@click.command("worker")
def worker():
    """Send the outbox and queue reminders, forever. Run one or more beside the web servers."""
    app = current_app._get_current_object()
    click.echo("Worker started: sending the outbox.")
    for note in channel_notes(app.config):  # a channel off says so once, at start-up
        click.echo(note)
    try:
        _scheduler_for(app, blocking=True).start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Worker stopped.")


def _stop(signum, frame):
    raise KeyboardInterrupt


@click.command("serve")
@click.option("--port", type=int, default=lambda: int(os.environ.get("PORT", "5000")))
def serve(port):
    """Development: web server, worker and (unless MAIL_SERVER is set) a mail sink in one."""
    from .messages.mailsink import sink_port, start_sink

    app = current_app._get_current_object()
    if not os.environ.get("BASE_URL"):
        app.config["BASE_URL"] = f"http://127.0.0.1:{port}"  # links in emails must work here
    sink = None
    if not os.environ.get("MAIL_SERVER"):
        folder = Path(app.instance_path) / "mail"
        wanted = app.config["MAIL_PORT"]
        sink, _ = start_sink("127.0.0.1", sink_port(wanted), folder)
        app.config["MAIL_PORT"] = sink.port
        if sink.port != wanted:
            click.echo(f"Port {wanted} is taken: the mail sink uses {sink.port} instead.")
        click.echo(
            f"Mail sink on 127.0.0.1:{sink.port}: every email is kept as an .eml file in {folder}/"
        )
    else:
        click.echo(f"Sending mail through {app.config['MAIL_SERVER']}:{app.config['MAIL_PORT']}")
    provider = _local_provider(app)
    for note in channel_notes(app.config):
        click.echo(note)
    # SIGTERM (from a process manager, or `kill`) stops everything like Ctrl-C does: the
    # finally below stops the worker and the sink instead of leaving them behind.
    signal.signal(signal.SIGTERM, _stop)
    scheduler = _scheduler_for(app, blocking=False)
    scheduler.start()
    click.echo(f"Worker running in this process. Booking form: http://127.0.0.1:{port}/book")
    try:
        # app.run() refuses to run inside a `flask` command; this is the server it would start.
        run_simple("127.0.0.1", port, app, threaded=True, use_reloader=False)
    finally:
        scheduler.shutdown(wait=False)
        if sink:
            sink.stop()
        if provider:
            provider.stop()


def _local_provider(app: Flask):
    """Unless a real WhatsApp or SMS account is set up, start the local stand-in and point
    both channels at it: every text is kept as a JSON file in ``instance/messages/``."""
    config = app.config
    if config.get("WHATSAPP_PHONE_NUMBER_ID") or config.get("TWILIO_ACCOUNT_SID"):
        return None
    folder = Path(app.instance_path) / "messages"
    settings = {
        "WHATSAPP_PHONE_NUMBER_ID": "local",
        "WHATSAPP_TOKEN": secrets.token_urlsafe(24),
        "WHATSAPP_APP_SECRET": secrets.token_urlsafe(24),
        "WHATSAPP_VERIFY_TOKEN": secrets.token_urlsafe(12),
        "TWILIO_ACCOUNT_SID": "AC" + secrets.token_hex(16),
        "TWILIO_AUTH_TOKEN": secrets.token_hex(16),
        "TWILIO_FROM": "+15005550006",
        "SMS_DLT_ENTITY_ID": "local",
    }
    provider = LocalProvider(
        Settings(
            folder=folder,
            whatsapp_token=settings["WHATSAPP_TOKEN"],
            whatsapp_app_secret=settings["WHATSAPP_APP_SECRET"],
            whatsapp_webhook=f"{config['BASE_URL']}/webhooks/whatsapp",
            twilio_account_sid=settings["TWILIO_ACCOUNT_SID"],
            twilio_auth_token=settings["TWILIO_AUTH_TOKEN"],
        )
    ).start()
    config.update(settings, WHATSAPP_API_URL=f"{provider.url}/v21.0", TWILIO_API_URL=provider.url)
    click.echo(
        f"WhatsApp and SMS stand-in on {provider.url}: every text is kept as a JSON file in "
        f"{folder}/"
    )
    return provider
