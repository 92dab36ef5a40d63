"""Every email kind, rendered for one fixed booking, compared with its reviewed snapshot in
``tests/snapshots/``: a change to what patients or staff read shows up in review as a diff.

After an intended change, ``UPDATE_SNAPSHOTS=1 make test`` rewrites them; read the diff before
committing it.
"""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from booking.core.models import Appointment, Intake, StaffUser, WaitlistEntry, WaitlistOffer
from booking.core.statuses import Channel, MessageKind
from booking.messages import notifications
from booking.messages.readers import reader_of

SNAPSHOTS = Path(__file__).parent / "snapshots"
STARTS = datetime(2030, 1, 7, 4, 30, tzinfo=UTC)  # fixed: the text says the date
QUESTIONS = ["What is the goal of treatment for me: cure, keeping the cancer under control?"]
OWN = "Can I keep working during treatment?\nIs it safe with my blood-pressure tablets?"


def fixed_booking(urgent: bool) -> Appointment:
    appointment = Appointment(
        reference="CT-7K3M9Q",
        consultant=StaffUser(name="Dr Rao", email="rao@clinic.example"),
        starts_at=STARTS,
        ends_at=STARTS + timedelta(minutes=30),
        status="confirmed",
        urgent=urgent,
        consult_mode="phone",
        patient_name="Kamala Iyer",
        patient_email="kamala@example.com",
        patient_phone="+919876543210",
        preferred_channel="whatsapp",
        patient_timezone="America/New_York",
        booked_by="caregiver",
        booker_name="Arjun Iyer",
        booker_relationship="son",
        booker_email="arjun@example.com",
        booker_phone="+14155550123",
        patient_agrees="yes",
        messages_to="both",
        relative_timezone="America/Los_Angeles",
        version=1,
    )
    appointment.intake = Intake(
        cancer_type="melanoma",
        stage="3",
        diagnosed="3to12m",
        treatments="immunotherapy",
        has_insurance="no",
        red_flags="fever,self_harm" if urgent else "none",
    )
    return appointment


def in_voices(write) -> dict:
    """A patient-side kind as each reader gets it: the patient (booked for them by their
    son), the son, a patient who does not yet know (discreet), and a patient who booked."""
    urgent = fixed_booking(True)
    discreet = fixed_booking(True)
    discreet.patient_agrees = "not_yet"
    own = fixed_booking(True)
    own.booked_by, own.booker_name, own.booker_relationship = "self", None, None
    own.booker_email = own.booker_phone = own.relative_timezone = None
    own.messages_to = "patient"
    return {
        "": write(urgent, reader_of(urgent, "patient")),
        "-relative": write(urgent, reader_of(urgent, "relative")),
        "-discreet": write(discreet, reader_of(discreet, "patient")),
        "-self": write(own, reader_of(own, "patient")),
    }


VOICES = ("", "-relative", "-discreet", "-self")


def patient_side_kinds() -> dict:
    later = STARTS - timedelta(hours=24)
    writers = {
        "confirmation": lambda a, r: notifications.confirmation_email(a, QUESTIONS, OWN, "tok", r),
        "reminder": lambda a, r: notifications.reminder_email(a, QUESTIONS, OWN, "tok", later, r),
        "moved": lambda a, r: notifications.moved_email(a, QUESTIONS, OWN, "tok", r),
        "cancelled": lambda a, r: notifications.cancelled_email(a, False, reader=r),
        "cancelled-by-the-son": lambda a, r: notifications.cancelled_email(
            a, True, reader=r, by_reader="relative"
        ),
    }
    return {
        f"{name}{voice}": email
        for name, write in writers.items()
        for voice, email in in_voices(write).items()
    }


def every_kind():
    urgent, calm = fixed_booking(True), fixed_booking(False)
    video, cancelled_video = video_booking("confirmed"), video_booking("cancelled")
    entry, offer = waitlist_offer()
    staff = "reception@clinic.example"
    return {
        **patient_side_kinds(),
        "confirmation-not-urgent": notifications.confirmation_email(calm, QUESTIONS, OWN, "tok"),
        "staff_new_booking": notifications.staff_new_booking_email(urgent, staff),
        "staff_moved": notifications.staff_change_email(
            urgent, staff, "moved", STARTS - timedelta(days=1)
        ),
        "staff_cancelled": notifications.staff_change_email(urgent, staff, "cancelled"),
        "urgent_escalation": notifications.urgent_escalation_email(
            urgent, staff, timedelta(minutes=61)
        ),
        "staff_worker_late": notifications.worker_late_email(
            staff, STARTS - timedelta(minutes=40), STARTS
        ),
        "staff_erased": notifications.staff_change_email(
            calm, staff, "erased", by="the patient, with the link in their email"
        ),
        "consultant_video": notifications.consultant_video_email(video, "rao@clinic.example"),
        "consultant_video-moved": notifications.consultant_video_email(
            video, "rao@clinic.example", MessageKind.CONSULTANT_VIDEO_MOVED
        ),
        "consultant_video-cancelled": notifications.consultant_video_email(
            cancelled_video, "rao@clinic.example", MessageKind.CONSULTANT_VIDEO_CANCELLED
        ),
        "waitlist_offer": notifications.waitlist_offer_email(entry, offer, "tok", "entry-tok"),
        "waitlist_confirm": notifications.waitlist_confirm_email(entry, "entry-tok"),
        "contact_changed": notifications.contact_changed_email(
            calm, "old.address@example.com", "email address and phone number"
        ),
    }


def video_booking(status: str) -> Appointment:
    appointment = fixed_booking(False)
    appointment.consult_mode = "video"
    appointment.video_link = "https://meet.jit.si/consult-0123456789abcdef0123456789abcdef"
    appointment.status = status
    return appointment


def waitlist_offer() -> tuple[WaitlistEntry, WaitlistOffer]:
    entry = WaitlistEntry(
        name="Meena Pillai",
        email="meena@example.com",
        phone="+919812345678",
        preferred_channel="email",
        language="en",
        timezone="Asia/Kolkata",
        weekdays="0,1",
        day_parts="morning",
    )
    offer = WaitlistOffer(entry=entry, starts_at=STARTS, expires_at=STARTS - timedelta(hours=20))
    return entry, offer


@pytest.fixture
def rendered(app):
    with app.app_context():
        app.config["BASE_URL"] = "https://book.clinic.example"
        yield every_kind()


NAMES = [
    *(
        f"{kind}{voice}"
        for kind in ("confirmation", "reminder", "moved", "cancelled", "cancelled-by-the-son")
        for voice in VOICES
    ),
    "confirmation-not-urgent",
    "staff_new_booking",
    "staff_moved",
    "staff_cancelled",
    "urgent_escalation",
    "staff_erased",
    "staff_worker_late",
    "consultant_video",
    "consultant_video-moved",
    "consultant_video-cancelled",
    "waitlist_offer",
    "waitlist_confirm",
    "contact_changed",
]


@pytest.mark.parametrize("name", NAMES)
def test_email_matches_its_snapshot(rendered, name):
    email = rendered[name]
    for suffix, body in (
        (".txt", f"Subject: {email.subject}\n\n{email.text}"),
        (".html", email.html),
    ):
        path = SNAPSHOTS / f"{name}{suffix}"
        if os.environ.get("UPDATE_SNAPSHOTS"):
            path.parent.mkdir(exist_ok=True)
            path.write_text(body, encoding="utf-8")
        assert path.exists(), f"no snapshot {path.name}: run with UPDATE_SNAPSHOTS=1 and review it"
        assert body == path.read_text(encoding="utf-8"), f"{path.name} differs from its snapshot"


def test_every_kind_has_a_snapshot(rendered):
    assert sorted(rendered) == sorted(NAMES)
    kinds = {email.kind for email in rendered.values()}
    assert kinds == {
        "confirmation",
        "reminder",
        "moved",
        "cancelled",
        "staff_new_booking",
        "staff_moved",
        "staff_cancelled",
        "urgent_escalation",
        "staff_erased",
        "staff_worker_late",
        "consultant_video",
        "consultant_video_moved",
        "consultant_video_cancelled",
        "waitlist_offer",
        "waitlist_confirm",
        "contact_changed",
    }
    # Every kind the service sends by email has its snapshot; the one text-only kind below.
    assert kinds == set(MessageKind) - {MessageKind.CHANGE_LINK}


def every_text() -> dict:
    """Each short text as WhatsApp and SMS carry it, to the son in California; the manage
    link's token is fixed."""
    booking = fixed_booking(True)
    son = reader_of(booking, "relative")
    texts = {}
    for kind in (MessageKind.CONFIRMATION, MessageKind.REMINDER, MessageKind.MOVED):
        for channel in (Channel.WHATSAPP, Channel.SMS):
            texts[f"text-{kind}-{channel}"] = notifications.short_text(
                kind, channel, booking, son, "tok", {}
            )
    texts["text-cancelled-whatsapp"] = notifications.short_text(
        MessageKind.CANCELLED, Channel.WHATSAPP, booking, son, "tok", {"rebook": True}
    )
    texts["text-change_link-whatsapp"] = notifications.short_text(
        MessageKind.CHANGE_LINK, Channel.WHATSAPP, booking, son, "tok", {}
    )
    return texts


TEXT_NAMES = [
    *(
        f"text-{kind}-{channel}"
        for kind in ("confirmation", "reminder", "moved")
        for channel in ("whatsapp", "sms")
    ),
    "text-cancelled-whatsapp",
    "text-change_link-whatsapp",
]


@pytest.mark.parametrize("name", TEXT_NAMES)
def test_text_matches_its_snapshot(app, name):
    """What a shared phone shows: the reference, the time, how, a link, the clinic's phone;
    never a word about health (the intake's answers are not in these values at all)."""
    with app.app_context():
        app.config["BASE_URL"] = "https://book.clinic.example"
        text = every_text()[name]
    body = f"Template: {text.subject}\n\n{text.text}\n\nSent: {text.html}\n"
    path = SNAPSHOTS / f"{name}.txt"
    if os.environ.get("UPDATE_SNAPSHOTS"):
        path.write_text(body, encoding="utf-8")
    assert body == path.read_text(encoding="utf-8"), f"{path.name} differs from its snapshot"
    for private in ("elanoma", "Stage", "fever", "self", "Iyer"):
        assert private not in text.text, private
