"""Availability, the question list, the email log, accounts and the audit log."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from booking.core.models import (
    Appointment,
    AuditEvent,
    OutboundEmail,
    PreVisitQuestion,
    StaffUser,
    TimeOff,
    WeeklyHours,
)
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from tests.factories import csrf_for, sign_in
from tests.helpers import offered_times


def test_changing_hours_lists_bookings_that_no_longer_fit(
    staff_client, client, consultant, booking_form
):
    client.post("/book", data=booking_form(slot_index=0))
    reference = db.session.scalar(sa.select(Appointment.reference))
    response = staff_client.post(
        f"/staff/availability/{consultant.id}/hours",
        data=grid(staff_client, {5: [("10:00", "11:00")]}),
    )
    assert response.status_code == 302
    assert [(h.weekday, str(h.start_time)) for h in db.session.scalars(sa.select(WeeklyHours))] == [
        (5, "10:00:00")
    ]
    page = staff_client.get("/staff/availability").get_data(as_text=True)
    assert "outside the current hours" in page and reference in page
    assert db.session.scalar(sa.select(Appointment.status)) == "confirmed"  # kept, not dropped


def grid(staff_client, days: dict) -> dict:
    """The week grid's fields as the page posts them: ``{weekday: [(start, end), ...]}``,
    two blocks a day, empty where not given."""
    data = {"csrf_token": csrf_for(staff_client, "/staff/availability")}
    for weekday in range(7):
        blocks = days.get(weekday, []) + [("", "")] * 2
        for index, (start, end) in enumerate(blocks[:2]):
            data[f"d{weekday}-b{index}-start"] = start
            data[f"d{weekday}-b{index}-end"] = end
    return data


def test_bad_hours_are_explained_next_to_the_day(staff_client, consultant):
    data = grid(
        staff_client,
        {0: [("17:00", "09:00")], 2: [("09:00", "")], 4: [("09:00", "12:00"), ("11:00", "13:00")]},
    )
    response = staff_client.post(f"/staff/availability/{consultant.id}/hours", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Monday: 17:00 to 09:00 is not a block of time" in page
    assert "Wednesday: Give both the start and the end" in page
    assert "Friday: Two blocks overlap" in page
    assert 'name="d0-b0-start" value="17:00"' in page  # what was typed is kept
    assert db.session.scalar(sa.select(sa.func.count(WeeklyHours.id))) == 7  # unchanged


def test_the_grid_saves_the_same_hours_as_the_text(app, staff_client, create_consultant):
    by_grid, by_text = create_consultant("Dr Grid"), create_consultant("Dr Text")
    weekdays = {day: [("09:00", "13:00"), ("14:00", "17:00")] for day in range(5)}
    response = staff_client.post(
        f"/staff/availability/{by_grid.id}/hours", data=grid(staff_client, weekdays)
    )
    assert response.status_code == 302
    result = app.test_cli_runner().invoke(
        args=["set-hours", by_text.email, "mon-fri 9-1", "mon-fri 2pm-5pm"]
    )
    assert result.exit_code == 0, result.output

    def hours(user):
        rows = db.session.scalars(
            sa.select(WeeklyHours).where(WeeklyHours.consultant_id == user.id)
        ).all()
        return sorted((h.weekday, h.start_time, h.end_time) for h in rows)

    db.session.expire_all()
    assert hours(by_grid) == hours(by_text) and len(hours(by_grid)) == 10
    page = staff_client.get("/staff/availability").get_data(as_text=True)
    assert 'name="d4-b1-start" value="14:00"' in page  # the grid shows what was saved


def test_clinic_closure_removes_slots_and_lists_bookings(
    staff_client, client, consultant, booking_form
):
    client.post("/book", data=booking_form(slot_index=0))
    appointment = db.session.scalar(sa.select(Appointment))
    day = appointment.starts_at.astimezone().date()
    response = staff_client.post(
        "/staff/availability/time-off",
        data={
            "csrf_token": csrf_for(staff_client),
            "consultant_id": "0",
            "start_date": (day - timedelta(days=1)).isoformat(),
            "end_date": (day + timedelta(days=2)).isoformat(),
            "reason": "Holiday",
        },
    )
    assert response.status_code == 302
    closure = db.session.scalar(sa.select(TimeOff))
    assert closure.consultant_id is None
    page = staff_client.get("/staff/availability").get_data(as_text=True)
    assert appointment.reference in page
    slots = re.findall(r'value="(\d{4}-[^"]+Z)"', client.get("/book").get_data(as_text=True))
    assert appointment.starts_at.isoformat().replace("+00:00", "Z") not in slots


def test_time_off_must_end_after_it_starts(staff_client, consultant):
    response = staff_client.post(
        "/staff/availability/time-off",
        data={
            "csrf_token": csrf_for(staff_client),
            "consultant_id": str(consultant.id),
            "start_date": "2027-01-05",
            "end_date": "2027-01-04",
        },
    )
    assert response.status_code == 422
    assert "end must be after" in response.get_data(as_text=True)


def test_question_list_add_edit_reorder_deactivate_and_preview(staff_client):
    token = csrf_for(staff_client, "/staff/questions")
    staff_client.post(
        "/staff/questions",
        data={
            "csrf_token": token,
            "text": "Will IL-2 affect my blood pressure?",
            "cancer_type": "renal_cell",
            "therapy": "",
            "treatment": "",
            "active": "y",
        },
    )
    added = db.session.scalar(
        sa.select(PreVisitQuestion).where(PreVisitQuestion.text.like("Will IL-2%"))
    )
    assert added.cancer_type == "renal_cell"
    preview = staff_client.get("/staff/questions?preview_cancer_type=renal_cell")
    assert "Will IL-2 affect my blood pressure?" in preview.get_data(as_text=True)
    other = staff_client.get("/staff/questions?preview_cancer_type=melanoma")
    preview_text = re.search(
        r'<pre class="preview">(.*?)</pre>', other.get_data(as_text=True), re.S
    )[1]
    assert "Will IL-2" not in preview_text

    staff_client.post(
        f"/staff/questions/{added.id}/move", data={"csrf_token": token, "direction": "up"}
    )
    ordered = db.session.scalars(
        sa.select(PreVisitQuestion.id).order_by(PreVisitQuestion.position)
    ).all()
    assert ordered[-2] == added.id

    staff_client.post(
        f"/staff/questions/{added.id}",
        data={
            "csrf_token": token,
            "text": "Will IL-2 change my blood pressure?",
            "cancer_type": "renal_cell",
            "therapy": "",
            "treatment": "",
        },
    )  # no "active": unticked
    db.session.refresh(added)
    assert added.text.startswith("Will IL-2 change") and added.active is False
    preview = staff_client.get("/staff/questions?preview_cancer_type=renal_cell")
    text = re.search(r'<pre class="preview">(.*?)</pre>', preview.get_data(as_text=True), re.S)[1]
    assert "Will IL-2" not in text
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 0  # preview saved nothing


def test_dead_email_can_be_retried(app, staff_client, client, consultant, booking_form, smtp):
    client.post("/book", data=booking_form())
    smtp.stop()
    app.config["OUTBOX_MAX_ATTEMPTS"] = 1
    dispatch_outbox(db.session)
    dead = db.session.scalars(sa.select(OutboundEmail).where(OutboundEmail.status == "dead")).all()
    assert len(dead) == 2
    page = staff_client.get("/staff/emails?status=dead").get_data(as_text=True)
    assert "Send again" in page
    staff_client.post(
        f"/staff/emails/{dead[0].id}/retry", data={"csrf_token": csrf_for(staff_client)}
    )
    smtp.start()
    app.config["MAIL_PORT"] = smtp.port
    assert dispatch_outbox(db.session).sent == 1
    assert smtp.messages[0]["Message-ID"] == dead[0].message_id
    assert (
        db.session.scalar(sa.select(AuditEvent.detail).where(AuditEvent.action == "email_retried"))
        == f"email {dead[0].id}"
    )


def test_admin_creates_an_account_with_a_one_time_password(app, admin_client):
    response = admin_client.post(
        "/staff/accounts",
        data={
            "csrf_token": csrf_for(admin_client),
            "email": "new@clinic.example",
            "name": "New Colleague",
            "role": "staff",
            "is_consultant": "y",
        },
    )
    page = response.get_data(as_text=True)
    password = re.search(r"<code>([^<]+)</code>", page)[1]
    # It signs in (the second factor is set up next: tests/test_two_factor.py).
    first = sign_in(app.test_client(), "new@clinic.example", password)
    assert first.status_code == 302 and first.headers["Location"] == "/staff/two-factor"
    assert admin_client.get("/staff/accounts").get_data(as_text=True).count(password) == 0


def test_admin_deactivates_and_resets(app, admin_client, create_staff):
    user = create_staff("desk@clinic.example")
    colleague = app.test_client()
    sign_in(colleague, user.email)
    admin_client.post(
        f"/staff/accounts/{user.id}",
        data={
            "csrf_token": csrf_for(admin_client),
            "role": "staff",
        },
    )  # "active" unticked
    assert colleague.get("/staff/").status_code == 302
    response = admin_client.post(
        f"/staff/accounts/{user.id}/reset-password", data={"csrf_token": csrf_for(admin_client)}
    )
    assert re.search(r"<code>([^<]+)</code>", response.get_data(as_text=True))


def test_the_last_admin_cannot_be_removed(admin_client):
    admin_client.post(
        f"/staff/accounts/{admin_client.user.id}",
        data={
            "csrf_token": csrf_for(admin_client),
            "role": "staff",
            "active": "y",
        },
    )
    assert db.session.get(StaffUser, admin_client.user.id).role == "admin"


def test_audit_log_filters(admin_client, staff_client, client, consultant, booking_form):
    client.post("/book", data=booking_form())
    reference = db.session.scalar(sa.select(Appointment.reference))
    staff_client.get(f"/staff/appointments/{reference}")
    staff_client.get(f"/staff/appointments/{reference}")  # again at once: one line, twice
    page = admin_client.get(f"/staff/audit?reference={reference}").get_data(as_text=True)
    # In words, with people's names: no codes.
    assert "opened the booking (2 times in a few minutes)" in page and "booked online" in page
    assert "Reception Desk" in page and "patient (email link or booking form)" in page
    by_user = admin_client.get(
        f"/staff/audit?user_id={staff_client.user.id}&action=viewed"
    ).get_data(as_text=True)
    rows = re.findall(r"<td>(booked online|opened the booking[^<]*|signed in)</td>", by_user)
    assert rows == ["opened the booking (2 times in a few minutes)"]


def test_audit_and_email_logs_show_clinic_time(admin_client, consultant, book_at):
    at = datetime(2030, 1, 7, 0, 0, tzinfo=UTC)  # 05:30 in Kolkata
    book_at(at + timedelta(days=2), at)
    db.session.execute(sa.update(AuditEvent).values(at=at))
    db.session.execute(sa.update(OutboundEmail).values(created_at=at))
    db.session.commit()
    audit = admin_client.get("/staff/audit").get_data(as_text=True)
    assert "07 Jan 2030 05:30" in audit
    emails = admin_client.get("/staff/emails").get_data(as_text=True)
    assert "07 Jan 2030 05:30" in emails
    assert "07 Jan 2030 00:00" not in audit + emails


def test_the_question_list_is_a_table_filtered_and_edited_one_row_at_a_time(staff_client):
    page = staff_client.get("/staff/questions").get_data(as_text=True)
    total = db.session.scalar(sa.select(sa.func.count(PreVisitQuestion.id)))
    assert f"{total} of {total} questions" in page
    assert page.count("<textarea") == 1  # only the add form: rows are not edit forms
    renal = staff_client.get("/staff/questions?for_cancer_type=renal_cell").get_data(as_text=True)
    shown = len(re.findall(r'<tr id="q\d+"', renal))
    expected = db.session.scalar(
        sa.select(sa.func.count(PreVisitQuestion.id)).where(
            PreVisitQuestion.cancer_type == "renal_cell"
        )
    )
    assert shown == expected > 0
    il2 = staff_client.get("/staff/questions?for_therapy=interleukin2").get_data(as_text=True)
    assert "Interleukin-2" in il2 and len(re.findall(r'<tr id="q\d+"', il2)) > 0

    question = db.session.scalar(
        sa.select(PreVisitQuestion).where(PreVisitQuestion.cancer_type == "renal_cell").limit(1)
    )
    edit = staff_client.get(f"/staff/questions/{question.id}").get_data(as_text=True)
    assert str(escape(question.text)) in edit
    token = csrf_for(staff_client, f"/staff/questions/{question.id}")
    refused = staff_client.post(
        f"/staff/questions/{question.id}",
        data={"csrf_token": token, "text": "", "cancer_type": "renal_cell", "active": "y"},
    )
    assert refused.status_code == 422 and "Edit a pre-visit question" in refused.get_data(
        as_text=True
    )
    saved = staff_client.post(
        f"/staff/questions/{question.id}",
        data={"csrf_token": token, "text": "Reworded?", "cancer_type": "renal_cell", "active": "y"},
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"#q{question.id}")
    db.session.refresh(question)
    assert question.text == "Reworded?"


@pytest.mark.parametrize(
    "email", ["reception", "desk@clinic", "a b@clinic.example", "ë@clinic.example"]
)
def test_a_new_account_needs_a_real_email_address(admin_client, email):
    response = admin_client.post(
        "/staff/accounts",
        data={"csrf_token": csrf_for(admin_client), "email": email, "name": "X", "role": "staff"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "email address" in page and "Temporary password" not in page
    assert db.session.scalar(sa.select(sa.func.count(StaffUser.id))) == 1  # the admin only


def test_removing_time_off_offers_its_times_again(staff_client, client, consultant):
    """A consultant's day off is cancelled: the day's times come back on the booking page at
    once (the free-time cache follows the schedule), and the removal is audited."""
    first = client.get("/book?tz=Asia/Kolkata").get_data(as_text=True)
    day = re.search(r'name="day" value="(\d{4}-\d\d-\d\d)"', first)[1]
    day_page = f"/book?tz=Asia/Kolkata&day={day}"  # the clinic's day, as time off is given
    offered = offered_times(client.get(day_page).get_data(as_text=True))
    assert offered
    added = staff_client.post(
        "/staff/availability/time-off",
        data={
            "csrf_token": csrf_for(staff_client),
            "consultant_id": str(consultant.id),
            "start_date": day,
            "end_date": day,
            "reason": "Conference",
        },
    )
    assert added.status_code == 302
    during = offered_times(client.get(day_page).get_data(as_text=True))  # the next free day's
    assert not set(offered) & set(during)

    time_off = db.session.scalar(sa.select(TimeOff))
    removed = staff_client.post(
        f"/staff/availability/time-off/{time_off.id}/delete",
        data={"csrf_token": csrf_for(staff_client, "/staff/availability")},
    )
    assert removed.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(TimeOff.id))) == 0
    assert offered_times(client.get(day_page).get_data(as_text=True)) == offered
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == ["time_off_added", "time_off_removed"]
