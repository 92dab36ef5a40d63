"""Factories for the rows tests start from: consultants with hours, staff who can sign in,
bookings made through the domain function.

Plain functions over ``db.session``, so a fixture of any scope can use them; ``conftest.py``
wraps them as the ``create_consultant``, ``create_staff`` and ``book_at`` fixtures.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

import sqlalchemy as sa

from booking.core.models import OutboundEmail, StaffUser, WeeklyHours
from booking.core.statuses import MessageKind
from booking.extensions import db
from booking.intake.booking_questions import DEFINED_ONLY
from booking.messages.outbox import new_email_values
from tests.helpers import csrf_token

STAFF_PASSWORD = "correct horse battery staple"
# Every test account's authenticator app holds this secret (set up and confirmed).
STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def add_consultant(
    name="Dr Test", email=None, days=range(7), start=time(0), end=time(23, 30)
) -> StaffUser:
    """A consultant with weekly hours, by default every day from 00:00 to 23:30 clinic time,
    so a test can book most times of day. The last start of the day is 23:00: a test that
    books "on the hour" must take its time from ``tests.clock.clinic_slot``, not from the
    wall clock, or it fails whenever the real time in India is 23:30 or later."""
    user = StaffUser(
        email=email or f"{re.sub(r'[^a-z0-9]', '', name.lower())}@clinic.example",
        name=name,
        password_hash="x",
        role="staff",
        is_consultant=True,
    )
    user.hours = [WeeklyHours(weekday=day, start_time=start, end_time=end) for day in days]
    db.session.add(user)
    db.session.commit()
    return user


def add_staff(
    email="reception@clinic.example",
    role="staff",
    name="Reception Desk",
    consultant=False,
    second_factor=True,
) -> StaffUser:
    """A staff account that signs in with ``STAFF_PASSWORD`` and, when ``second_factor``,
    a code from ``STAFF_TOTP_SECRET`` (without it, the first sign-in sets one up)."""
    from booking.staff_accounts.accounts import new_staff_user

    user = new_staff_user(email, name, role, consultant, STAFF_PASSWORD)
    if second_factor:
        user.totp_secret = STAFF_TOTP_SECRET
        user.totp_confirmed_at = datetime.now(UTC)
    db.session.add(user)
    db.session.commit()
    return user


def booking_request(starts_at, index=0, **changes):
    """Plain booking values, as the form hands them to the domain function."""
    from booking.appointments.bookings import BookingRequest

    values = dict(
        submission_key=f"test-submission-key-{index:06d}-{starts_at.timestamp():.0f}",
        starts_at=starts_at,
        patient_timezone="Asia/Kolkata",
        booked_by="self",
        patient_name="Asha Verma",
        patient_email=f"patient{index}@example.com",
        patient_phone="+919876543210",
        preferred_channel="email",
        cancer_type="melanoma",
        stage="3",
        diagnosed="3to12m",
        diagnosis_details="Lesion on the left shoulder",
        treatments=["interferon"],
        treatment_details="Pegylated interferon since May",
        payment_routes=["private_insurance"],
        insurer="Star Health",
        birth_date="1962-08-15",
        therapy="interferon",
        urgent=False,
        own_questions="Can I keep working during treatment?",
        consult_mode="phone",
        consent_health=True,
        consent_reminders=True,
    )
    values.update(changes)
    # Questions handled from their definition alone travel in ``more_answers``.
    more = {q.name: q.stored(values.pop(q.name)) for q in DEFINED_ONLY if q.name in values}
    return BookingRequest(**values, more_answers=more)


def book_at_moment(starts_at, now, index=0, **changes):
    """Book through the domain function with a controlled clock."""
    from booking.appointments.bookings import book_and_commit

    return book_and_commit(db.session, booking_request(starts_at, index, **changes), now)


VALID_ANSWERS = {
    "booked_by": "self",
    "patient_name": "Asha Verma",
    "patient_email": "asha.verma@example.com",
    "patient_phone": "+91 98765 43210",
    "birth_date": "15/08/1962",
    "preferred_channel": "email",
    "therapy": "interleukin2",
    "cancer_type": "melanoma",
    "stage": "3",
    "diagnosed": "3to12m",
    "diagnosis_details": "Lesion on the left shoulder, BRAF negative",
    "treatments": ["immunotherapy", "interferon"],
    "treatment_details": "Pembrolizumab since March",
    "treating_hospital": "City Cancer Hospital, Dr Iyer",
    "payment_routes": ["private_insurance", "pmjay"],
    "insurer": "Star Health",
    "tpa": "Medi Assist",
    "policy_holder": "Ravi Verma",
    "card_holder": "spouse",
    "policy_after_diagnosis": "no",
    "red_flags": ["none"],
    "own_questions": "Can I keep working during treatment?",
    "consult_mode": "phone",
    "timezone": "Asia/Kolkata",
    "consent_health": "y",
    "consent_reminders": "y",
}


def next_code(email: str, secret: str = STAFF_TOTP_SECRET) -> str:
    """The code the app shows now, or the next one when this one was used: a code is accepted
    once. A test that signs one account in a third time within 30 seconds moves the last
    accepted step back, as if the next period had come."""
    import pyotp

    now_step = int(datetime.now(UTC).timestamp()) // 30
    with db.engine.connect() as connection:  # leaves the test's own transaction alone
        last = connection.scalar(
            sa.select(StaffUser.totp_last_step).where(StaffUser.email == email)
        )
        if last is not None and last > now_step:
            connection.execute(
                sa.update(StaffUser)
                .where(StaffUser.email == email)
                .values(totp_last_step=now_step - 1)
            )
            connection.commit()
            last = now_step - 1
    step = max(now_step, (last or 0) + 1)
    return pyotp.TOTP(secret).generate_otp(step)


def sign_in(client, email, password=STAFF_PASSWORD, next_page=None):
    """Password, then the code: the response of the last step (302 when signed in)."""
    login = f"/staff/login?next={next_page}" if next_page else "/staff/login"
    page = client.get(login).get_data(as_text=True)
    first = client.post(
        login,
        data={"csrf_token": csrf_token(page), "email": email, "password": password},
    )
    if first.status_code != 302 or not first.headers["Location"].endswith("/two-factor"):
        return first
    code_page = client.get("/staff/two-factor")
    if code_page.status_code != 200:  # no second factor yet: set-up comes next
        return first
    page = code_page.get_data(as_text=True)
    return client.post(
        "/staff/two-factor", data={"csrf_token": csrf_token(page), "code": next_code(email)}
    )


def csrf_for(client, path="/staff/") -> str:
    """A valid CSRF token for this client's session."""
    return csrf_token(client.get(path).get_data(as_text=True))


def add_written_message(
    recipient: str,
    subject: str,
    text: str,
    html: str,
    now: datetime,
    ics: str | None = None,
    kind: MessageKind = MessageKind.REMINDER,
) -> OutboundEmail:
    """An outbox row already written (as after a failed first attempt), for tests of sending
    itself: what goes over the wire, retries, claims. Every real message is queued with
    ``queue_message`` and written by the worker."""
    row = OutboundEmail(**new_email_values(kind, recipient, now, None))
    row.subject, row.body_text, row.body_html, row.ics = subject, text, html, ics
    db.session.add(row)
    return row
