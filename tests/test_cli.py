"""The command-line tasks a clinic runs: accounts, hours, demo data."""

import smtplib
import socket

import sqlalchemy as sa
from werkzeug.security import check_password_hash

from booking.core.models import StaffUser, WeeklyHours
from booking.extensions import db
from booking.messages.mailsink import sink_port, start_sink


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_create_staff_reads_the_password_from_stdin(app):
    result = run(
        app,
        "create-staff",
        "Head@Clinic.example",
        "--name",
        "Head",
        "--role",
        "admin",
        "--password-stdin",
        input="correct horse battery\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(StaffUser))
    assert (user.email, user.role, user.is_consultant) == ("head@clinic.example", "admin", False)
    assert check_password_hash(user.password_hash, "correct horse battery")


def test_create_staff_prompts_and_refuses_short_passwords(app):
    result = run(
        app,
        "create-staff",
        "a@clinic.example",
        "--name",
        "A",
        "--consultant",
        input="short\nshort\n",
    )
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    common = run(
        app,
        "create-staff",
        "b@clinic.example",
        "--name",
        "B",
        "--password-stdin",
        input="password1234\n",
    )
    assert common.exit_code != 0 and "too common" in common.output
    assert db.session.scalar(sa.select(sa.func.count(StaffUser.id))) == 0


def test_create_staff_refuses_a_second_account_for_one_email(app):
    for _ in range(2):
        result = run(
            app,
            "create-staff",
            "a@clinic.example",
            "--name",
            "A",
            "--password-stdin",
            input="a long enough password\n",
        )
    assert result.exit_code != 0 and "already has an account" in result.output


def test_set_hours_replaces_the_weekly_hours(app):
    run(
        app,
        "create-staff",
        "dr@clinic.example",
        "--name",
        "Dr",
        "--consultant",
        "--password-stdin",
        input="a long enough password\n",
    )
    result = run(app, "set-hours", "dr@clinic.example", "mon-fri 09:00-13:00", "sat 10:00-12:00")
    assert result.exit_code == 0, result.output
    rows = db.session.scalars(sa.select(WeeklyHours).order_by(WeeklyHours.weekday)).all()
    assert [row.weekday for row in rows] == [0, 1, 2, 3, 4, 5]
    bad = run(app, "set-hours", "dr@clinic.example", "mon 17:00-09:00")
    assert bad.exit_code != 0


def test_seed_demo_only_into_an_empty_database(app, client):
    first = run(app, "seed-demo")
    assert first.exit_code == 0
    assert "admin@clinic.example / " in first.output
    assert db.session.scalar(sa.select(sa.func.count(StaffUser.id))) == 3
    second = run(app, "seed-demo")
    assert second.exit_code == 0 and "not added" in second.output
    assert "admin@clinic.example /" not in second.output
    assert db.session.scalar(sa.select(sa.func.count(StaffUser.id))) == 3
    # The demo consultants make the form offer times at once.
    assert 'name="slot"' in client.get("/book").get_data(as_text=True)


def test_reset_password_gives_a_temporary_password_once(app, create_staff):
    user = create_staff("admin@clinic.example", role="admin")
    before = user.session_version
    result = run(app, "reset-password", "Admin@Clinic.example")
    assert result.exit_code == 0, result.output
    password = result.output.rsplit(": ", 1)[1].strip()
    db.session.expire_all()
    user = db.session.scalar(sa.select(StaffUser))
    assert check_password_hash(user.password_hash, password)
    assert user.session_version > before  # every session of that account ends
    unknown = run(app, "reset-password", "nobody@clinic.example")
    assert unknown.exit_code != 0 and "no staff account" in unknown.output


def test_a_restart_says_how_to_reset_the_admin_password(app):
    run(app, "seed-demo")
    again = run(app, "seed-demo")
    assert "flask --app booking reset-password admin@clinic.example" in again.output


def test_the_mail_sink_moves_off_a_port_that_is_taken():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        port = sink_port(taken)
        assert port != taken
        controller, _ = start_sink("127.0.0.1", port)  # and the sink really starts there
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                assert smtp.noop()[0] == 250
        finally:
            controller.stop()
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        unused = free.getsockname()[1]
    assert sink_port(unused) == unused


def test_set_hours_understands_nine_to_five(app, create_consultant):
    consultant = create_consultant("Dr Nine")
    result = run(app, "set-hours", consultant.email, "mon-fri 9-5", "sat 9am-12:30pm")
    assert result.exit_code == 0, result.output
    hours = db.session.scalars(
        sa.select(WeeklyHours).where(WeeklyHours.consultant_id == consultant.id)
    ).all()
    spans = {(h.weekday, f"{h.start_time:%H:%M}-{h.end_time:%H:%M}") for h in hours}
    assert (0, "09:00-17:00") in spans and (5, "09:00-12:30") in spans and len(spans) == 6
    refused = run(app, "set-hours", consultant.email, "mon 17:00-09:00")
    assert refused.exit_code != 0 and "must start before they end" in refused.output
