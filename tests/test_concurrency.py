"""Twenty patients submit the same slot at the same moment: exactly one gets it."""

import threading
from datetime import datetime, timedelta

import sqlalchemy as sa

from booking.appointments.bookings import SlotTaken, book_and_commit
from booking.core.models import Appointment, Intake, OutboundEmail, Reminder, StaffUser
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.scheduling.availability import free_slots, slot_rules
from booking.staff_accounts.accounts import LastAdmin, change_account
from tests.databases import BOTH_DATABASES
from tests.factories import booking_request

THREADS = 20


def race(app, starts_at, now):
    """Run THREADS bookings of one slot at once, each thread with its own session."""
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def book(index):
        with app.app_context():
            barrier.wait()
            try:
                book_and_commit(db.session, booking_request(starts_at, index), now)
                outcome = "booked"
            except SlotTaken:
                outcome = "taken"
            except Exception as error:  # reported, so the test shows what went wrong
                outcome = f"error: {error!r}"
            finally:
                db.session.remove()
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=book, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@BOTH_DATABASES
def test_one_slot_twenty_bookers_one_appointment(app, consultant):
    now = now_utc()
    starts_at = next(iter(free_slots(db.session, slot_rules(app.config), now)))
    db.session.remove()

    outcomes = race(app, starts_at, now)

    assert sorted(set(outcomes)) == ["booked", "taken"], outcomes
    assert outcomes.count("booked") == 1
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 1
    # The losers left nothing behind: no orphan intake, reminder or email.
    assert db.session.scalar(sa.select(sa.func.count(Intake.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Reminder.id))) == 2
    assert db.session.scalar(sa.select(sa.func.count(OutboundEmail.id))) == 2


@BOTH_DATABASES
def test_two_consultants_take_two_of_the_bookers(app, create_consultant):
    create_consultant("Dr One")
    create_consultant("Dr Two")
    now = now_utc()
    starts_at = next(iter(free_slots(db.session, slot_rules(app.config), now)))
    db.session.remove()

    outcomes = race(app, starts_at, now)

    assert outcomes.count("booked") == 2, outcomes
    consultants = db.session.scalars(sa.select(Appointment.consultant_id)).all()
    assert len(set(consultants)) == 2


def test_taken_slot_in_the_form_keeps_every_answer(client, consultant, booking_form):
    first = booking_form()
    second = booking_form(
        patient_name="Second Patient",
        patient_email="second@example.com",
        own_questions="My own question",
    )
    client.post("/book", data=first)
    response = client.post("/book", data=second)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "That time was just taken" in page
    assert 'value="Second Patient"' in page
    assert "My own question" in page
    assert 'value="Star Health"' in page
    assert db.session.scalar(sa.select(sa.func.count(Appointment.id))) == 1


def test_race_lost_inside_the_transaction_reoffers_fresh_slots(
    app, client, consultant, booking_form, monkeypatch
):
    """The slot is free when the form is checked but taken by the time the insert runs."""
    data = booking_form()
    chosen = data["slot"]
    starts_at = datetime.fromisoformat(chosen)

    def book_after_someone_else(session, request, now, rules=None, actor=None, candidates=None):
        # The form's check found the consultant free (no hold: this browser never held it).
        assert candidates.free == [consultant.id] and candidates.hold is None
        with app.app_context():  # another request, with its own session, wins the race
            book_and_commit(db.session, booking_request(starts_at, 99), now - timedelta(seconds=1))
        return book_and_commit(session, request, now, rules, actor, candidates)

    monkeypatch.setattr("booking.web.booking_flow.book_and_commit", book_after_someone_else)
    response = client.post("/book", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "That time was just taken by someone else" in page
    assert f'value="{chosen}"' not in page  # the taken time is no longer offered
    assert 'value="Asha Verma"' in page


@BOTH_DATABASES
def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, create_staff):
    first = create_staff("first@clinic.example", role="admin", name="First Admin")
    second = create_staff("second@clinic.example", role="admin", name="Second Admin")
    pairs = [(first.id, second.id), (second.id, first.id)]
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(actor_id, target_id):
        with app.app_context():
            target = db.session.get(StaffUser, target_id)
            assert db.session.get(StaffUser, actor_id).is_admin
            barrier.wait()
            try:
                change_account(db.session, target, role="staff", is_consultant=False, active=True)
                db.session.commit()
                outcomes.append("demoted")
            except LastAdmin:
                db.session.rollback()
                outcomes.append("refused")
            except Exception as error:  # reported, so the test shows what went wrong
                outcomes.append(f"error: {error!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=demote, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["demoted", "refused"], outcomes
    admins = db.session.scalar(
        sa.select(sa.func.count(StaffUser.id)).where(StaffUser.role == "admin")
    )
    assert admins == 1
