"""In a real browser: a patient books with the keyboard on a phone-sized screen, staff move the
booking, the patient cancels from the link in the email file; axe-core checks every page."""

import email
import email.policy
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import sync_playwright

from booking.core.models import Appointment
from booking.extensions import db
from booking.messages.local_provider import LocalProvider
from booking.messages.local_provider import Settings as ProviderSettings
from booking.messages.mailsink import start_sink
from booking.messages.outbox import dispatch_outbox
from tests.apps import TEXTS_SETTINGS, free_port
from tests.browser import (
    AXE,
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    assert_accessible,
    choose_option,
    choose_radio,
    new_context,
    shot,
    tab_to,
    type_into,
)
from tests.clock import clinic_slot
from tests.factories import STAFF_PASSWORD, next_code
from tests.test_questionnaire import FINISHED

PHONE = {"width": 390, "height": 844}
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM) or not AXE.exists():
        pytest.fail("Chromium or axe-core missing: run `make test`, which installs them")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def mail_folder(app, tmp_path):
    """A real SMTP sink that keeps every message as an .eml file, as `make run` does."""
    folder = tmp_path / "mail"
    port = free_port()
    controller, _ = start_sink("127.0.0.1", port, folder)
    app.config["MAIL_PORT"] = port
    yield folder
    controller.stop()


@pytest.fixture
def live(app, consultant, mail_folder):
    port = free_port()
    app.config["BASE_URL"] = f"http://127.0.0.1:{port}"
    server = LiveServer(app, port).start()
    yield server
    server.stop()


def latest_email(folder: Path, subject_part: str):
    for path in sorted(folder.glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if subject_part in message["Subject"]:
            return message
    raise AssertionError(f"no email with {subject_part!r} in {folder}")


def choose_a_time_with_the_keyboard(page):
    """The first step: another day (no reload), then a time, then Continue."""
    page.evaluate("window.sameDocument = true")
    days = page.locator("a[data-day].day")
    second_day = days.nth(1).get_attribute("href")
    tab_to(page, f'a[href="{second_day}"]')
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*day=\d{4}-\d\d-\d\d"))
    assert page.evaluate("window.sameDocument === true"), "the day switch reloaded the page"
    assert page.locator("[aria-current=date]").count() == 1
    assert page.inner_text("[data-summary-line]") == "No time chosen yet."
    choose_radio(page, "slot", 2)
    assert page.inner_text("[data-summary-line]").startswith("You are booking: ")
    shot(page, "01a-choose-a-time")
    assert_accessible(page, "choosing a day and a time")
    tab_to(page, "button.primary")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/details")
    page.wait_for_selector("text=We keep it for you until")


def continue_with_the_keyboard(page, to_step: int) -> None:
    tab_to(page, "button.primary")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/book/details?step={to_step}")
    page.wait_for_load_state("load")
    assert page.is_visible(f"text=Step {to_step} of 5")


def book_with_the_keyboard(page):
    choose_a_time_with_the_keyboard(page)
    page.wait_for_selector("text=Step 1 of 5")
    page.wait_for_selector("text=We keep it for you until")
    choose_radio(page, "booked_by", 0)
    type_into(page, "#patient_name", "Asha Verma")
    type_into(page, "#patient_email", "asha.verma@example.com")
    type_into(page, "#birth_date", "15/08/1962")
    type_into(page, "#patient_phone", "+91 98765 43210")
    choose_radio(page, "preferred_channel", 0)
    continue_with_the_keyboard(page, 2)

    assert page.is_hidden("#guidance-cancer-team")
    tab_to(page, "#red_flags-8")  # a temperature of 38 °C or more: call the cancer team now
    page.keyboard.press("Space")
    assert page.is_visible("#guidance-cancer-team"), "ticking a red flag shows its guidance at once"
    guidance = page.inner_text("#guidance-cancer-team")
    assert "Call your cancer team now, day or night" in guidance
    assert "Do not take paracetamol before you call" in guidance
    assert page.is_hidden("#guidance-emergency")
    shot(page, "01b-red-flag-guidance")
    assert_accessible(page, "booking form with safety guidance shown")
    continue_with_the_keyboard(page, 3)

    # The guidance stays at the top of the steps that follow.
    assert "Call your cancer team now, day or night" in page.inner_text(".urgent")
    choose_radio(page, "therapy", 0)  # interleukin-2
    choose_option(page, "#cancer_type", 1)  # Melanoma
    choose_option(page, "#stage", 3)
    choose_option(page, "#diagnosed", 1)
    tab_to(page, "#treatments-10")  # Cytokine therapy: interferon
    page.keyboard.press("Space")
    continue_with_the_keyboard(page, 4)

    assert page.is_hidden("#insurer"), "insurer asked before the patient said they are insured"
    tab_to(page, "#payment_routes-0")  # private health insurance
    page.keyboard.press("Space")
    page.wait_for_selector("#insurer")
    type_into(page, "#insurer", "Star Health")
    type_into(page, "#tpa", "Medi Assist")
    choose_radio(page, "policy_after_diagnosis", 1)  # No
    choose_radio(page, "card_holder", 0)  # the patient's own
    continue_with_the_keyboard(page, 5)

    check = page.inner_text("section.check-answers")
    assert "Asha Verma" in check and "Melanoma" in check and "Star Health" in check
    # Each answer reads as a line of words under its question, not a letter per line.
    narrowest = page.eval_on_selector_all(
        "section.check-answers dd", "els => Math.min(...els.map(e => e.clientWidth))"
    )
    assert narrowest > PHONE["width"] / 2
    shot(page, "01c-check-your-answers")
    assert_accessible(page, "the last step with the check of every answer")
    type_into(page, "#own_questions", "Can I keep working during treatment?")
    choose_radio(page, "consult_mode", 1)
    tab_to(page, "#consent_health")
    page.keyboard.press("Space")
    tab_to(page, "button.primary")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/confirmed")


def test_patient_books_staff_move_patient_cancels(browser, live, app, mail_folder, create_staff):
    create_staff("reception@clinic.example")
    patient = new_context(browser, viewport=PHONE, timezone_id="America/New_York")
    page = patient.new_page()
    page.goto(f"{live.url}/book")
    page.wait_for_url(re.compile(r".*tz=America%2FNew_York"))
    assert page.input_value("#tz") == "America/New_York"  # detected from the device
    assert "EST" in page.inner_text("#slot") or "EDT" in page.inner_text("#slot")
    shot(page, "01-booking-form")
    assert_accessible(page, "booking form")

    book_with_the_keyboard(page)
    page.wait_for_selector("text=These symptoms should not wait for the consult")
    page.wait_for_selector("text=Our team will also call you on +91 98765 43210")
    reference = page.inner_text(".reference")
    shot(page, "02-confirmation")
    assert_accessible(page, "confirmation")

    # The patient starts the health questionnaire, saves it part-way, and sends it later.
    page.click("text=Fill in the health questionnaire")
    page.wait_for_selector("h1:text('Health questionnaire')")
    assert_accessible(page, "health questionnaire")
    # The questions speak to the patient, and name her when a relative fills it in.
    page.wait_for_load_state("load")  # the page's script is running
    assert page.is_checked("#filled_by-0")  # the link was sent to the patient
    page.wait_for_selector("legend:text-is('Are you pregnant or breastfeeding?')")
    page.check("#filled_by-1")
    page.wait_for_selector("legend:text-is('Is Asha Verma pregnant or breastfeeding?')")
    page.wait_for_selector("text=Has Asha Verma ever had any of these?")
    page.check("#filled_by-0")
    page.wait_for_selector("legend:text-is('Are you pregnant or breastfeeding?')")
    # A question that follows from an answer shows once it is given.
    assert not page.is_visible("#steroid_dose")
    page.check("#medicine_steroids-0")  # yes
    page.fill("#steroid_dose", "Dexamethasone 4 mg twice a day")
    page.check("#condition_heart-0")  # yes
    page.fill("#medicines", "Telmisartan 40 mg")
    page.click("button[value=save]")
    page.wait_for_selector("text=You can finish it later", timeout=5000)
    page.click("button[value=send]")
    page.wait_for_selector("text=Please check these answers")
    assert page.input_value("#medicines") == "Telmisartan 40 mg"
    shot(page, "02c-questionnaire-errors")
    assert_accessible(page, "health questionnaire with errors")
    page.check("#spread-1")  # lymph nodes
    for name in FINISHED:  # every condition: no, but heart (yes) and thyroid (not sure)
        if name.startswith("condition_") and name != "condition_heart":
            page.check(f"#{name}-{2 if name == 'condition_thyroid' else 1}")
    page.check("#self_harm-0")
    page.check("#daily_activity-1")
    page.check("#can_stay-0")
    page.check("#distress-2")
    page.click("button[value=send]")
    page.wait_for_selector("text=the questionnaire is sent to the consultant")

    # Staff sign in, find the booking and move it.
    staff = new_context(browser, viewport={"width": 1280, "height": 900})
    desk = staff.new_page()
    desk.goto(f"{live.url}/staff/login")
    assert_accessible(desk, "staff sign-in")
    desk.fill("#email", "reception@clinic.example")
    desk.fill("#password", STAFF_PASSWORD)
    desk.click("button.primary")
    desk.wait_for_url(f"{live.url}/staff/two-factor")
    assert_accessible(desk, "second-factor code")
    desk.fill("#code", next_code("reception@clinic.example"))
    desk.click("button.primary")
    desk.wait_for_url(f"{live.url}/staff/")
    waiting = desk.inner_text("section[aria-labelledby=h-waiting]")
    assert "Urgent, not yet reached (1)" in waiting and reference in waiting
    shot(desk, "02b-staff-home-urgent")
    assert_accessible(desk, "staff home with the urgent list")
    desk.click("text=Appointments")
    desk.fill("#q", reference)
    desk.click("form.filters button")
    shot(desk, "03-staff-list")
    assert_accessible(desk, "staff list")
    assert "done" in desk.inner_text(f"tr:has(a:text('{reference}'))")  # the questionnaire
    desk.click(f"a:text('{reference}')")
    desk.wait_for_selector("text=Can I keep working during treatment?")
    summary = desk.inner_text("section.consultant-summary")
    assert "Heart disease" in summary and "Not sure: Thyroid disease" in summary
    assert "Takes steroids: Dexamethasone 4 mg twice a day" in summary
    assert "Interleukin-2" in summary and "Private health insurance" in summary
    shot(desk, "04-staff-appointment")
    assert_accessible(desk, "appointment page")
    desk.check("#outcome-0")  # reached and advised
    desk.fill("#note", "Advised to call the treating hospital now")
    desk.click("text=Record the call")
    desk.wait_for_selector("text=The patient is off the urgent list.")
    desk.click("text=Move to another time")
    # The booking's picker, in the clinic's time: a day (weeks ahead, so the patient can
    # still change it), then a time, then a second step that names the change.
    desk.locator("#days a.day").last.click()
    # The day's times come in place of the others: wait for them before choosing one.
    desk.wait_for_function("() => document.querySelector('#days li:last-child a.day.current')")
    desk.locator("#picker input[name=slot]").first.check()
    assert "You are moving to:" in desk.inner_text("[data-summary-line]")
    desk.click("text=Continue")
    desk.wait_for_selector("text=You are moving to")
    assert "clinic time" in desk.inner_text("main")
    desk.click("text=Yes, move to this time")
    desk.wait_for_selector("text=Moved.")

    # The worker sends the emails; the patient opens the link in the "moved" email file.
    dispatch_outbox(db.session)
    moved = latest_email(mail_folder, "has moved")
    link = re.search(r"http://[^/\s]+/manage/[\w-]+", moved.get_body(("plain",)).get_content())[0]
    page.goto(link)
    assert reference in page.inner_text("main")
    shot(page, "05-manage")
    assert_accessible(page, "manage page")
    # The patient moves it again through the same picker, in their own time.
    page.click("text=Move to another time")
    assert not page.locator("#picker input[name=slot]:checked").count()
    page.locator("#days a.day").nth(-2).click()
    page.wait_for_function(
        "() => document.querySelector('#days li:nth-last-child(2) a.day.current')"
    )
    page.locator("#picker input[name=slot]").last.check()
    assert "your time" in page.inner_text("[data-summary-line]")
    shot(page, "05b-move-picker")
    assert_accessible(page, "move picker")
    page.click("text=Continue")
    page.wait_for_selector("text=Check the new time")
    assert_accessible(page, "move check")
    page.click("text=Yes, move to this time")
    page.wait_for_selector("text=Your consult has moved")
    page.click("text=Cancel the consult")
    # A second step names the consult; "No" keeps it, "Yes" cancels.
    page.wait_for_selector("text=Cancel your consult?")
    assert reference in page.inner_text("main")
    shot(page, "06-cancel-step")
    assert_accessible(page, "cancel step")
    page.click("text=No, keep my consult")
    page.wait_for_selector("text=Cancel the consult")
    assert reference in page.inner_text("main")
    page.click("text=Cancel the consult")
    page.click("text=Yes, cancel my consult")
    page.wait_for_selector("text=This booking is cancelled")
    shot(page, "07-cancelled")
    db.session.remove()
    assert db.session.scalar(sa.select(Appointment.status)) == "cancelled"

    # After the consult is cancelled, the same link still reaches the patient's data.
    page.click("text=See and download everything we hold about this booking")
    page.wait_for_url("**/data")
    assert "Asha Verma" in page.inner_text("main")
    shot(page, "08-your-data")
    assert_accessible(page, "your data")
    page.click("text=Delete my data")
    assert_accessible(page, "delete step")
    page.click("text=Yes, delete my data")
    page.wait_for_selector("text=Your data is deleted")
    db.session.remove()
    assert db.session.scalar(sa.select(Appointment.patient_name)) == ""
    page.click("text=Privacy notice: how we use your information")
    page.wait_for_selector("text=Your rights")
    assert_accessible(page, "privacy notice")


def test_booking_form_with_errors_is_accessible(browser, live):
    context = new_context(browser, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live.url}/book?tz=Asia/Kolkata")
    page.check("#slot-0")
    page.click("button.primary")
    page.wait_for_url("**/book/details")
    page.click("button.primary")
    page.wait_for_selector("text=Please check these answers")
    # The summary is on screen before the page's script has run: wait for the script to
    # give it the focus (this fails after the timeout if it never does).
    page.wait_for_function(
        "document.activeElement && document.activeElement.classList.contains('error-summary')",
        timeout=5000,
    )
    shot(page, "07-booking-errors")
    assert_accessible(page, "booking form with errors")


def test_without_script_the_confirmation_carries_the_guidance(browser, live):
    context = new_context(browser, viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live.url}/book")
    assert page.is_visible("a[href='tel:112']") and page.is_visible("a[href='tel:108']")
    page.click("a[data-day].day >> nth=1")  # without script, a plain link
    page.check("#slot-0")
    page.click("button.primary")
    page.wait_for_url("**/book/details")
    page.wait_for_selector("text=Step 1 of 5")
    page.check("#booked_by-0")
    page.fill("#patient_name", "Asha Verma")
    page.fill("#patient_email", "asha.verma@example.com")
    page.fill("#patient_phone", "+91 98765 43210")
    page.fill("#birth_date", "15/08/1962")
    page.check("#preferred_channel-0")
    page.click("button.primary")
    page.wait_for_url("**/book/details?step=2")
    page.check("#red_flags-0")  # chest pain
    assert page.is_hidden("#guidance-emergency")  # no script: the next page says it
    page.click("button.primary")
    page.wait_for_url("**/book/details?step=3")
    assert "Call 112 or 108 now" in page.inner_text(".urgent")
    page.check("#therapy-2")  # not sure
    page.select_option("#cancer_type", "melanoma")
    page.select_option("#stage", "3")
    page.select_option("#diagnosed", "lt3m")
    page.check("#treatments-0")
    page.click("button.primary")
    page.wait_for_url("**/book/details?step=4")
    page.check("input[name=payment_routes][value=self_pay]")
    page.click("button.primary")
    page.wait_for_url("**/book/details?step=5")
    # Back to step 2 and forward again: nothing is lost.
    page.click("button[value=back]")
    page.wait_for_url("**/book/details?step=4")
    assert page.is_checked("input[name=payment_routes][value=self_pay]")
    page.click("button[value=back]")
    page.wait_for_url("**/book/details?step=3")
    page.click("button[value=back]")
    page.wait_for_url("**/book/details?step=2")
    assert page.is_checked("#red_flags-0")
    page.click("button.primary")
    page.wait_for_url("**/book/details?step=3")
    assert page.input_value("#cancer_type") == "melanoma"
    page.click("button.primary")
    page.click("button.primary")
    page.wait_for_url("**/book/details?step=5")
    page.check("#consult_mode-0")
    page.check("#consent_health")
    page.click("button.primary")
    page.wait_for_url("**/book/confirmed")
    alert = page.inner_text(".urgent")
    assert "These symptoms should not wait for the consult" in alert
    assert "Call 112 or 108 now, or go to the nearest hospital emergency (casualty)." in alert
    assert "Our team will also call you on +91 98765 43210" in alert
    shot(page, "08-confirmation-without-script")
    context.close()


def test_the_desk_on_a_phone(browser, live, app, create_staff, book_at):
    """Staff pages at phone width: the list's rows are cards with their column names, the
    patients' header and emergency footer are gone, and cancelling asks first."""
    create_staff("reception@clinic.example", role="admin")
    reference = book_at(clinic_slot(3), datetime.now(UTC)).appointment.reference
    db.session.remove()
    desk = new_context(browser, viewport=PHONE).new_page()
    desk.goto(f"{live.url}/staff/login")
    desk.fill("#email", "reception@clinic.example")
    desk.fill("#password", STAFF_PASSWORD)
    desk.click("button.primary")
    desk.fill("#code", next_code("reception@clinic.example"))
    desk.click("button.primary")
    desk.wait_for_url(f"{live.url}/staff/")
    desk.click("text=Appointments")
    card = desk.locator(f"tr:has(a:text('{reference}'))")
    assert card.evaluate("row => getComputedStyle(row).display") == "block"
    header = desk.locator("table.cards thead")  # kept for screen readers, not shown
    assert header.evaluate("head => head.getBoundingClientRect().height") <= 1
    cell = card.locator("td[data-label=Patient]")
    label = cell.evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Patient: "'
    page_text = desk.inner_text("body")
    assert "not for emergencies" not in page_text and "Questions? Call" not in page_text
    shot(desk, "08-staff-list-phone")
    assert_accessible(desk, "staff list on a phone")

    desk.click(f"a:text('{reference}')")
    desk.click("text=Cancel this consult")
    desk.wait_for_selector(f"h1:text('Cancel {reference}?')")
    assert_accessible(desk, "staff cancel step")
    desk.click("text=No, keep the consult")
    desk.wait_for_selector("text=Cancel this consult")
    desk.click("text=Availability")
    desk.wait_for_selector("th:text('Monday')")
    shot(desk, "09-hours-grid-phone")
    assert_accessible(desk, "weekly hours grid")
    db.session.remove()
    assert db.session.scalar(sa.select(Appointment.status)) == "confirmed"

    # No staff page scrolls sideways on a phone.
    too_wide = {}
    for path in (
        "/staff/",
        "/staff/appointments",
        f"/staff/appointments/{reference}",
        f"/staff/appointments/{reference}/move",
        f"/staff/appointments/{reference}/contact",
        "/staff/availability",
        "/staff/emails",
        "/staff/waitlist",
        "/staff/questions",
        "/staff/clinical-review",
        "/staff/book",
        "/staff/accounts",
        "/staff/audit",
        "/staff/password",
    ):
        desk.goto(live.url + path)
        width = desk.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[path] = width
    assert too_wide == {}


def all_emails(folder: Path) -> list:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


def test_a_son_books_for_his_mother_on_whatsapp_and_the_desk_reads_the_message_log(
    browser, live, app, create_staff, mail_folder, tmp_path
):
    """Ravi books for his mother, who does not know yet, with WhatsApp for both of them; the
    desk's message log shows each one's WhatsApp text, delivered, and her email says nothing
    about the illness."""
    provider = LocalProvider(
        ProviderSettings(
            folder=tmp_path / "messages",
            whatsapp_token=TEXTS_SETTINGS["WHATSAPP_TOKEN"],
            whatsapp_app_secret=TEXTS_SETTINGS["WHATSAPP_APP_SECRET"],
            whatsapp_webhook=f"{live.url}/webhooks/whatsapp",
            twilio_account_sid=TEXTS_SETTINGS["TWILIO_ACCOUNT_SID"],
            twilio_auth_token=TEXTS_SETTINGS["TWILIO_AUTH_TOKEN"],
        )
    ).start()
    app.config.update(
        TEXTS_SETTINGS, WHATSAPP_API_URL=f"{provider.url}/v21.0", TWILIO_API_URL=provider.url
    )
    create_staff("reception@clinic.example")
    try:
        page = new_context(browser, viewport=PHONE).new_page()
        page.goto(f"{live.url}/book")
        choose_a_time_with_the_keyboard(page)
        page.check("#booked_by-1")
        page.fill("#booker_name", "Ravi Kumar")
        page.fill("#booker_relationship", "son")
        page.fill("#booker_email", "ravi@example.com")
        page.fill("#booker_phone", "+91 91234 56789")
        page.check("#relative_channel-2")  # WhatsApp, for Ravi too
        page.check("#patient_agrees-1")  # not yet
        page.check("#messages_to-2")  # both of us
        page.fill("#patient_name", "Kamla Devi")
        page.fill("#patient_email", "kamla@example.com")
        page.fill("#birth_date", "15/08/1958")
        page.fill("#patient_phone", "+91 98765 43210")
        page.check("#preferred_channel-2")  # WhatsApp
        page.click("button.primary")
        page.wait_for_url("**/book/details?step=2")
        page.wait_for_load_state("load")
        legend = page.inner_text("#red_flags legend")
        assert legend.startswith("Right now, or in the last 24 hours, does the patient")
        page.check("input[name=red_flags][value=none]")
        page.click("button.primary")
        page.wait_for_url("**/book/details?step=3")
        page.wait_for_load_state("load")
        assert page.is_visible("#knows_diagnosis") and not page.is_visible("#speaks_first")
        page.check("#knows_diagnosis-2")  # no, not yet
        page.check("#speaks_first-0")  # the family first
        page.check("#therapy-0")
        page.select_option("#cancer_type", "melanoma")
        page.select_option("#stage", "3")
        page.select_option("#diagnosed", "3to12m")
        page.check("#treatments-0")
        page.click("button.primary")
        page.wait_for_url("**/book/details?step=4")
        page.check("input[name=payment_routes][value=self_pay]")
        # With script too: Back from step 4 to step 2 and forward again loses nothing.
        page.click("button[value=back]")
        page.wait_for_url("**/book/details?step=3")
        page.click("button[value=back]")
        page.wait_for_url("**/book/details?step=2")
        assert page.is_checked("input[name=red_flags][value=none]")
        page.click("button.primary")
        page.wait_for_url("**/book/details?step=3")
        assert page.is_checked("#knows_diagnosis-2") and page.is_checked("#speaks_first-0")
        assert page.input_value("#cancer_type") == "melanoma"
        page.click("button.primary")
        page.wait_for_url("**/book/details?step=4")
        assert page.is_checked("input[name=payment_routes][value=self_pay]")
        page.click("button.primary")
        page.wait_for_url("**/book/details?step=5")
        consent = page.inner_text("label[for=consent_health]")
        assert consent.startswith("The patient agrees (or I am their legal guardian)")
        page.check("#consult_mode-0")
        page.check("#consent_health")
        page.click("button.primary")
        page.wait_for_url("**/book/confirmed")
        text = page.inner_text("main")
        assert "you (ravi@example.com)" in text and "Kamla Devi (kamla@example.com)" in text
        assert_accessible(page, "a relative's confirmation page")

        db.session.remove()
        dispatch_outbox(db.session)
        sent = [m for m in provider.messages() if m["channel"] == "whatsapp"]
        assert sorted(m["to"] for m in sent) == ["919123456789", "919876543210"]
        hers = [m for m in all_emails(mail_folder) if m["To"] == "kamla@example.com"]
        assert len(hers) == 1 and "elanoma" not in hers[0].get_body(("plain",)).get_content()

        desk = new_context(browser).new_page()
        desk.goto(f"{live.url}/staff/login")
        desk.fill("#email", "reception@clinic.example")
        desk.fill("#password", STAFF_PASSWORD)
        desk.click("button.primary")
        desk.fill("#code", next_code("reception@clinic.example"))
        desk.click("button.primary")
        desk.wait_for_url(f"{live.url}/staff/")
        for _ in range(50):  # the stand-in reports delivery a moment later
            desk.goto(f"{live.url}/staff/emails?channel=whatsapp")
            if desk.locator("td:text-is('Delivered')").count() == 2:
                break
            desk.wait_for_timeout(100)
        assert desk.locator("td:text-is('Delivered')").count() == 2
        assert desk.locator("td:text-is('+919876543210')").count() == 1
        shot(desk, "10-message-log")
        assert_accessible(desk, "message log")
    finally:
        provider.stop()
