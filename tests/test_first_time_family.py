"""The rough edges a first-time family meets, through real HTTP: the error summary read in the
order of the page, links that never existed apart from links to a booking now gone, the
favicon, a first screen light on a slow phone (compressed, files cached for a year under
hashed names), emails laid out for a phone, and a skip link to the days."""

from __future__ import annotations

import gzip
import re

import brotli
import sqlalchemy as sa

from booking.extensions import db
from tests.databases import BOTH_DATABASES
from tests.helpers import error_for


def summary_and_form(page: str) -> tuple[str, str]:
    start = page.index('class="error-summary"')
    form = page.index('<form method="post" action="/book"')
    return page[start:form], page[form:]


def test_the_error_summary_follows_the_page_and_reads_without_double_punctuation(
    client, consultant, booking_form
):
    missing = booking_form(
        red_flags=None, patient_name="", preferred_channel=None, consent_health=None
    )
    response = client.post("/book", data=missing)
    assert response.status_code == 422
    summary, form = summary_and_form(response.get_data(as_text=True))
    listed = re.findall(r'<a href="#([\w-]+)">', summary)
    assert set(listed) == {"red_flags", "patient_name", "preferred_channel", "consent_health"}
    # The same ids, in the order the questions are on the page below.
    on_the_page = sorted(listed, key=lambda field_id: form.index(f'id="{field_id}"'))
    assert listed == on_the_page
    assert listed[0] == "red_flags"  # the safety check comes right after who is booking
    assert "?:" not in summary
    assert "How should we contact you? Choose how we should contact you." in summary


@BOTH_DATABASES
def test_the_waitlist_summary_reads_the_same_way(client, consultant):
    page = client.get("/waitlist").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    response = client.post("/waitlist", data={"csrf_token": token, "timezone": "Asia/Kolkata"})
    shown = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = shown[shown.index('class="error-summary"') : shown.index("<form")]
    listed = re.findall(r'<a href="#([\w-]+)">', summary)
    assert listed[:2] == ["name", "email"]
    assert "?:" not in summary


def test_a_link_that_never_existed_is_404_and_the_favicon_is_served(client):
    assert client.get("/manage/not-a-real-token").status_code == 404
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an icon file
    assert "max-age=86400" in icon.headers["Cache-Control"]


def production_client(app):
    from booking import create_app
    from config import ProductionConfig
    from tests.apps import TEST_KEY

    production = create_app(
        ProductionConfig,
        SECRET_KEY="s" * 40,
        ENCRYPTION_KEYS=TEST_KEY,
        SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
        MAIL_SERVER="127.0.0.1",
    )
    return production.test_client()


def test_the_production_setup_compresses_what_a_patient_loads_and_caches_files_a_year(
    app, consultant
):
    client = production_client(app)
    phone = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    page = client.get("/book?tz=Asia/Kolkata", headers=phone, base_url="https://clinic.example")
    assert page.status_code == 200 and page.headers["Content-Encoding"] == "br"
    assert "Accept-Encoding" in page.headers["Vary"]
    assert page.headers["Cache-Control"] == "no-store"
    html = brotli.decompress(page.data).decode()
    assert "Book a free consult" in html
    files = re.findall(r'(?:href|src)="(/assets/[\w.]+)"', html)
    assert sorted(name.rsplit(".", 2)[0] for name in files) == ["/assets/booking", "/assets/style"]

    transferred = len(page.data)
    for name in files:
        file = client.get(name, headers=phone, base_url="https://clinic.example")
        assert file.status_code == 200 and file.headers["Content-Encoding"] == "br"
        assert file.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        transferred += len(file.data)
    # The first screen on a slow phone: the page, its stylesheet and its script.
    assert transferred < 15_000, transferred

    # A client that takes only gzip gets gzip.
    gzipped = client.get("/book", headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert b"Book a free consult" in gzip.decompress(gzipped.data)


def test_a_file_under_an_old_name_is_still_sent_but_not_kept_long(client):
    page = client.get("/book").get_data(as_text=True)
    current = re.search(r'href="(/assets/style\.\w+\.css)"', page)[1]
    old = client.get("/assets/style.0123456789.css")
    assert old.status_code == 200 and old.data == client.get(current).data
    assert old.headers["Cache-Control"] == "public, max-age=300"
    assert client.get("/assets/nothing.0123456789.css").status_code == 404


def test_staff_pages_are_not_compressed(staff_client):
    page = staff_client.get("/staff/appointments", headers={"Accept-Encoding": "gzip, br"})
    assert page.status_code == 200 and "Content-Encoding" not in page.headers


def test_html_emails_are_laid_out_for_a_phone(client, consultant, booking_form, smtp):
    from booking.messages.outbox import dispatch_outbox

    assert client.post("/book", data=booking_form()).status_code == 302
    dispatch_outbox(db.session)
    html = smtp.messages[0].get_body(("html",)).get_content()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html


def test_the_skip_link_takes_keyboard_users_to_the_days(client, consultant):
    page = client.get("/book?tz=Asia/Kolkata").get_data(as_text=True)
    assert page.index('href="#days">Skip to the free days</a>') < page.index('href="#main"')
    assert 'id="days"' in page


def test_whose_card_it_is_is_asked_for_the_schemes_that_cover_a_family(
    client, consultant, booking_form, staff_client
):
    from booking.core.models import Appointment

    father_s_card = booking_form(payment_routes=["cghs"], card_holder=None, insurer=None)
    response = client.post("/book", data=father_s_card)
    assert response.status_code == 422
    assert "Tell us whose card or policy it is" in error_for(
        response.get_data(as_text=True), "card_holder"
    )
    assert client.post("/book", data={**father_s_card, "card_holder": "parent"}).status_code == 302
    appointment = db.session.scalars(sa.select(Appointment)).one()
    assert appointment.intake.card_holder == "parent"
    page = staff_client.get(f"/staff/appointments/{appointment.reference}").get_data(as_text=True)
    assert "The father&#39;s or mother&#39;s" in page

    # Paying themselves, nobody is asked, and an answer sent anyway is not kept.
    own = booking_form(
        slot_index=1, payment_routes=["self_pay"], card_holder="spouse", insurer=None
    )
    assert client.post("/book", data=own).status_code == 302
    kept = db.session.scalars(sa.select(Appointment.id).order_by(Appointment.id)).all()
    assert db.session.get(Appointment, kept[-1]).intake.card_holder is None


A_DAUGHTER_IN_NEW_JERSEY = {
    "booked_by": "caregiver",
    "booker_name": "Meera Shah",
    "booker_relationship": "daughter",
    "booker_email": "meera@example.com",
    "booker_phone": "(201) 555-0134",
    "patient_agrees": "yes",
    "relative_channel": "email",
    "timezone": "America/New_York",
}


def test_a_daughter_abroad_types_her_number_as_she_knows_it(
    client, consultant, booking_form, staff_client
):
    from booking.core.models import Appointment

    wrong = booking_form(**{**A_DAUGHTER_IN_NEW_JERSEY, "booker_phone": "555-01"})
    response = client.post("/book", data=wrong)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    # The example is from her own country, beside the field and in its hint.
    assert "like +1 201-555-0123" in error_for(page, "booker_phone")
    assert "With the country code, for example +1 201-555-0123." in page
    assert 'value="555-01"' in page  # kept as typed

    # Her mother's Indian number, typed without +91, is read as Indian.
    mine = booking_form(**A_DAUGHTER_IN_NEW_JERSEY, patient_phone="98765 43210")
    assert client.post("/book", data=mine).status_code == 302
    appointment = db.session.scalars(sa.select(Appointment)).one()
    assert appointment.booker_phone == "+12015550134"
    assert appointment.patient_phone == "+919876543210"
    shown = staff_client.get(f"/staff/appointments/{appointment.reference}").get_data(as_text=True)
    assert ">+1 201-555-0134</a>" in shown and ">+91 98765 43210</a>" in shown
    assert ">+919876543210<" not in shown and ">+12015550134<" not in shown


def test_in_india_the_hint_and_the_example_are_indian(client, consultant, booking_form):
    response = client.post("/book", data=booking_form(patient_phone="12345"))
    page = response.get_data(as_text=True)
    assert "like +91 98765 43210" in error_for(page, "patient_phone")
