"""The waitlist: joining it, a freed time offered to the longest-waiting person it suits (held
for them), never twice to the same person, passing to the next when not taken in time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from booking.appointments.changes import cancel_appointment
from booking.appointments.waitlist import forget_pending, make_offers
from booking.core.audit import Actor
from booking.core.models import (
    AuditEvent,
    OutboundEmail,
    SlotClaim,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.core.timeutil import now_utc
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from booking.privacy.notice import NOTICE_VERSION
from booking.privacy.retention import apply_retention
from booking.scheduling.availability import free_slots, slot_rules
from tests.databases import BOTH_DATABASES
from tests.factories import VALID_ANSWERS
from tests.helpers import assert_only_app_markup, csrf_token, error_for, write_unwritten_emails

JOIN = {
    "name": "Meera Nair",
    "email": "meera@example.com",
    "phone": "+91 98470 12345",
    "preferred_channel": "whatsapp",
    "language": "hi",
    "weekdays": ["0"],
    "day_parts": ["morning"],
    "timezone": "Asia/Kolkata",
    "consent": "y",
}


def daytime(hour: int = 10, minute: int = 0) -> datetime:
    """The next moment at this clock time in India (where the people in these tests live)."""
    india = ZoneInfo("Asia/Kolkata")
    local = now_utc().astimezone(india)
    moment = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return (moment if moment > local else moment + timedelta(days=1)).astimezone(UTC)


def join(client, confirm=True, **changes):
    """Join through the form; then, unless ``confirm`` is false, follow the link in the
    confirmation email and press "Keep me on the waitlist", as the person would."""
    page = client.get("/waitlist?tz=Asia/Kolkata").get_data(as_text=True)
    data = {**JOIN, "csrf_token": csrf_token(page), **changes}
    response = client.post("/waitlist", data={k: v for k, v in data.items() if v is not None})
    if confirm and response.status_code == 303:
        link = entry_link(data["email"])
        entry_page = client.get(link).get_data(as_text=True)
        kept = client.post(f"{link}/confirm", data={"csrf_token": csrf_token(entry_page)})
        assert kept.status_code == 302
    return response


def entry_link(email: str, kind: str = "waitlist_confirm") -> str:
    """The link to the entry in the latest message of ``kind`` to ``email``."""
    write_unwritten_emails(db.session)
    body = db.session.scalars(
        sa.select(OutboundEmail.body_text)
        .where(OutboundEmail.recipient == email, OutboundEmail.kind == kind)
        .order_by(OutboundEmail.id.desc())
    ).first()
    return re.search(r"http://[^/\s]+(/waitlist/entry/[\w-]+)", body)[1]


def test_joining_keeps_the_answers_when_one_is_missing(client, consultant):
    response = join(client, weekdays=None)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Choose at least one day" in page and 'value="Meera Nair"' in page
    response = join(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/joined")
    entry = db.session.scalar(sa.select(WaitlistEntry))
    assert (entry.weekdays, entry.day_parts, entry.phone) == ("0", "morning", "+919847012345")
    assert entry.status == "waiting"


def test_the_booking_page_offers_the_waitlist(client, consultant):
    page = client.get("/book?tz=Asia/Kolkata").get_data(as_text=True)
    assert "/waitlist?tz=Asia%2FKolkata" in page or "/waitlist?tz=Asia/Kolkata" in page


@BOTH_DATABASES
def test_a_freed_time_goes_to_the_longest_waiting_match_once_then_to_the_next(
    app, client, create_consultant, book_at, smtp
):
    create_consultant("Dr Monday", days=[0], start=time(9), end=time(10))
    now = daytime()
    rules = slot_rules(app.config)
    booked = [
        book_at(moment, now, index=index).appointment
        for index, moment in enumerate(free_slots(db.session, rules, now))
    ]
    assert booked and not free_slots(db.session, rules, now)
    for name, email, phone in (
        ("First", "first@example.com", "+91 98470 12341"),
        ("Second", "second@example.com", "+91 98470 12342"),
    ):
        assert join(client, name=name, email=email, phone=phone).status_code == 303
    # The clinic works Mondays only, all booked: Mondays are taken, Tuesdays never come.
    tuesdays = join(
        client, name="Tuesday", email="t@example.com", weekdays=["1"], phone="+91 98470 12343"
    )
    assert tuesdays.status_code == 422
    assert "no consult times on these days" in error_for(tuesdays.text, "day_parts")
    assert make_offers(db.session, now) == 0  # nothing free: nobody is offered anything

    freed = booked[1]
    cancel_appointment(db.session, freed, now, Actor.patient())
    db.session.commit()
    assert make_offers(db.session, now) == 1
    assert make_offers(db.session, now) == 0  # one at a time: no second offer meanwhile
    [offer] = db.session.scalars(sa.select(WaitlistOffer)).all()
    assert offer.entry.name == "First" and offer.starts_at == freed.starts_at
    # The offered time is held: nobody else is offered it, online or on the list.
    assert freed.starts_at not in free_slots(db.session, rules, now)
    dispatch_outbox(db.session, now)
    [message] = [
        m for m in smtp.messages if m["To"] == "first@example.com" and "available" in m["Subject"]
    ]
    assert "A consult time is available for you" in message["Subject"]
    assert "Melanoma" not in message.as_string()  # nothing about health on the list

    later = now + timedelta(minutes=app.config["HOLD_MINUTES"] + 1)
    assert make_offers(db.session, later) == 1  # not taken in time: the next person
    offers = db.session.scalars(sa.select(WaitlistOffer).order_by(WaitlistOffer.id)).all()
    assert [(o.entry.name, o.status) for o in offers] == [("First", "expired"), ("Second", "open")]
    assert offers[1].starts_at == freed.starts_at
    first = db.session.scalar(sa.select(WaitlistEntry).where(WaitlistEntry.name == "First"))
    assert first.status == "waiting"  # waits for the next time, never this one again

    # The second person opens the link and books the held time.
    dispatch_outbox(db.session, later)
    [mail] = [
        m for m in smtp.messages if m["To"] == "second@example.com" and "available" in m["Subject"]
    ]
    text = mail.get_body(("plain",)).get_content()
    link = re.search(r"http://[^/\s]+(/waitlist/offer/[\w-]+)", text)[1]
    response = client.get(link)
    assert response.status_code == 302 and response.headers["Location"].endswith("/book/details")
    details = client.get("/book/details").get_data(as_text=True)
    assert "We keep it for you until" in details
    # What they gave when joining is filled in already.
    assert 'value="Second"' in details and 'value="second@example.com"' in details
    answers = dict(
        VALID_ANSWERS,
        csrf_token=csrf_token(details),
        submission_key="waitlist-booking-key-000001",
        slot=re.search(r'name="slot" value="([^"]+)"', details)[1],
        timezone="Asia/Kolkata",
        patient_email="second@example.com",
    )
    assert client.post("/book", data=answers).status_code == 302
    db.session.expire_all()
    second = db.session.scalar(sa.select(WaitlistEntry).where(WaitlistEntry.name == "Second"))
    assert second.status == "booked" and second.offers[0].status == "taken"
    assert client.get(link).status_code == 404  # the offer is used up


def test_staff_see_the_waitlist_and_take_someone_off(client, consultant, admin_client):
    join(client)
    page = admin_client.get("/staff/waitlist").get_data(as_text=True)
    assert "Meera Nair" in page and "+919847012345" in page and "Hindi" in page
    entry = db.session.scalar(sa.select(WaitlistEntry))
    response = admin_client.post(
        f"/staff/waitlist/{entry.id}/remove", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 302
    db.session.expire_all()
    # Off the list means forgotten: the entry and every message sent to it are deleted.
    assert db.session.get(WaitlistEntry, entry.id) is None
    assert not db.session.scalars(
        sa.select(OutboundEmail).where(OutboundEmail.recipient == JOIN["email"])
    ).all()
    assert (
        db.session.scalar(
            sa.select(AuditEvent.detail).where(AuditEvent.action == "waitlist_removed")
        )
        == f"waitlist {entry.id}"
    )
    assert "Nobody is waiting" in admin_client.get("/staff/waitlist").get_data(as_text=True)


@pytest.mark.parametrize("token", ["nonsense", "A" * 43])
def test_an_unknown_offer_link_explains_itself(client, consultant, token):
    response = client.get(f"/waitlist/offer/{token}")
    assert response.status_code == 404
    assert "This offer has ended" in response.get_data(as_text=True)


def test_an_offer_email_shows_the_name_as_typed_and_nothing_else(app, client, create_consultant):
    create_consultant("Dr Monday", days=[0], start=time(9), end=time(10))
    join(client, name="Anita D'Souza & family")
    assert make_offers(db.session, daytime()) == 1
    write_unwritten_emails(db.session)
    email = db.session.scalar(
        sa.select(OutboundEmail).where(OutboundEmail.kind == "waitlist_offer")
    )
    assert email.appointment_id is None
    parsed = assert_only_app_markup(email.body_html, app.config["BASE_URL"], email.kind)
    assert "Hello Anita D'Souza & family," in parsed.seen


def test_no_offer_is_sent_in_the_night_it_waits_for_the_morning(app, client, create_consultant):
    create_consultant("Dr Monday", days=[0], start=time(9), end=time(10))
    assert join(client).status_code == 303
    night = daytime(3, 15)
    assert make_offers(db.session, night) == 0
    assert db.session.scalar(sa.select(WaitlistEntry.status)) == "waiting"
    morning = daytime(8, 5)
    assert make_offers(db.session, morning if morning > night else morning + timedelta(days=1)) == 1


def test_waitlist_entries_are_deleted_when_the_retention_period_ends(app, client, consultant):
    assert join(client).status_code == 303
    ended_long_ago = {
        "name": "Ended Long Ago",
        "email": "ended@example.com",
        "phone": "+91 98470 99999",
    }
    assert join(client, **ended_long_ago).status_code == 303
    entry = db.session.scalar(sa.select(WaitlistEntry).where(WaitlistEntry.name == "Meera Nair"))
    assert entry.consent_version == NOTICE_VERSION
    ended = db.session.scalar(
        sa.select(WaitlistEntry).where(WaitlistEntry.name == "Ended Long Ago")
    )
    days = app.config["RETENTION_DAYS"]
    now = now_utc()
    ended.status, ended.ended_at = "removed", now - timedelta(days=days + 1)
    db.session.commit()
    assert apply_retention(db.session, now).waitlist_removed == 1
    names = db.session.scalars(sa.select(WaitlistEntry.name)).all()
    assert names == ["Meera Nair"]  # still waiting, joined today
    # The messages sent to the entry went with it.
    recipients = db.session.scalars(sa.select(OutboundEmail.recipient)).all()
    assert recipients == [JOIN["email"]]
    later = apply_retention(db.session, now + timedelta(days=days + 1))
    assert later.waitlist_removed == 1 and not db.session.scalars(sa.select(WaitlistEntry)).all()


def test_joining_sends_one_message_and_holds_nothing_until_confirmed(
    app, client, create_consultant
):
    create_consultant("Dr Monday", days=[0], start=time(9), end=time(10))
    assert join(client, confirm=False).status_code == 303
    joined = client.get("/waitlist/joined").get_data(as_text=True)
    assert "Check your email" in joined
    entry = db.session.scalar(sa.select(WaitlistEntry))
    assert entry.status == "pending"
    # A stranger's address typed again, or the same phone with another email: nothing new,
    # and the same page, which tells nobody who is on the list.
    assert join(client, confirm=False).status_code == 303
    assert join(client, confirm=False, email="other@example.com").status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(WaitlistEntry.id))) == 1
    [message] = db.session.scalars(sa.select(OutboundEmail)).all()
    assert message.kind == "waitlist_confirm" and message.recipient == JOIN["email"]
    # Nothing is offered or held for it while it is not confirmed.
    assert make_offers(db.session, daytime()) == 0
    assert not db.session.scalars(sa.select(WaitlistOffer)).all()

    # Opening the link (as a mail scanner would) confirms nothing; the button does.
    link = entry_link(JOIN["email"])
    page = client.get(link).get_data(as_text=True)
    assert "You are not on the waitlist yet" in page and "Meera Nair" in page
    db.session.expire_all()
    assert db.session.scalar(sa.select(WaitlistEntry.status)) == "pending"
    client.post(f"{link}/confirm", data={"csrf_token": csrf_token(page)})
    db.session.expire_all()
    assert db.session.scalar(sa.select(WaitlistEntry.status)) == "waiting"
    assert make_offers(db.session, daytime()) == 1


def test_the_offer_carries_a_link_to_leave_and_leaving_forgets_everything(
    app, client, create_consultant
):
    create_consultant("Dr Monday", days=[0], start=time(9), end=time(10))
    join(client)
    assert make_offers(db.session, daytime()) == 1
    link = entry_link(JOIN["email"], kind="waitlist_offer")
    page = client.get(link).get_data(as_text=True)
    assert "Leave the waitlist and delete my details" in page
    left = client.post(f"{link}/leave", data={"csrf_token": csrf_token(page)})
    assert "You have left the waitlist" in left.get_data(as_text=True)
    for model in (WaitlistEntry, WaitlistOffer, OutboundEmail):
        assert not db.session.scalars(sa.select(model)).all(), model.__name__
    # The time it held is free again, and the links no longer work.
    assert not db.session.scalars(sa.select(SlotClaim)).all()
    assert client.get(link).status_code == 404


def test_an_entry_never_confirmed_is_forgotten_after_two_days(app, client, consultant):
    join(client, confirm=False)
    now = now_utc()
    assert forget_pending(db.session, now + timedelta(days=1)) == 0
    assert forget_pending(db.session, now + timedelta(days=2, minutes=1)) == 1
    assert not db.session.scalars(sa.select(WaitlistEntry)).all()
    assert not db.session.scalars(sa.select(OutboundEmail)).all()


def test_over_the_limit_the_waitlist_keeps_what_was_typed(app, client, consultant):
    app.config["BOOKING_RATE_LIMIT"] = "1 per hour"
    assert join(client, confirm=False).status_code == 303
    response = join(
        client,
        confirm=False,
        name="Second Person",
        email="second@example.com",
        phone="+91 98470 22222",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "Your answers are kept" in page
    assert 'value="Second Person"' in page and 'value="second@example.com"' in page
