"""Clinical text reaches patients only as a clinician approved it: a pre-visit question
edited by anyone else waits as a draft, and fixed text is signed by its content."""

from datetime import timedelta

import sqlalchemy as sa

from booking.core.models import PreVisitQuestion
from booking.extensions import db
from booking.intake.clinical_review import FIXED, waiting
from booking.messages.outbox import dispatch_outbox
from tests.clock import monday_ahead
from tests.databases import BOTH_DATABASES
from tests.factories import csrf_for, sign_in

NEW = "Will the treatment affect my blood sugar?"


def question_by_text(text):
    return db.session.scalar(sa.select(PreVisitQuestion).where(PreVisitQuestion.text == text))


def confirmation_text(smtp, book_at, index):
    now = monday_ahead()
    book_at(now + timedelta(days=3, minutes=30 * index), now, index=index)
    while dispatch_outbox(db.session, now).claimed:
        pass
    message = smtp.messages[-1]
    return message.get_body(("plain",)).get_content()


@BOTH_DATABASES
def test_a_question_reaches_patients_only_after_a_clinician_approves_it(
    app, consultant, book_at, smtp, create_staff
):
    app.config["STAFF_NOTIFY_EMAILS"] = []
    create_staff("desk@clinic.example")
    create_staff("dr.mehta@clinic.example", name="Dr Mehta")
    clinician = db.session.scalar(
        sa.select(type(consultant)).where(type(consultant).email == "dr.mehta@clinic.example")
    )
    clinician.is_clinician = True
    db.session.commit()

    desk = app.test_client()
    assert sign_in(desk, "desk@clinic.example").status_code == 302
    token = csrf_for(desk, "/staff/questions")
    added = desk.post("/staff/questions", data={"csrf_token": token, "text": NEW, "active": "y"})
    assert added.status_code == 302
    assert NEW not in confirmation_text(smtp, book_at, 0)  # a draft reaches nobody

    question = question_by_text(NEW)
    review = desk.get("/staff/clinical-review").get_data(as_text=True)
    assert NEW in review and "Only a clinician can approve" in review
    token = csrf_for(desk, "/staff/clinical-review")
    refused = desk.post(
        f"/staff/clinical-review/questions/{question.id}", data={"csrf_token": token}
    )
    assert refused.status_code == 403
    assert NEW not in confirmation_text(smtp, book_at, 1)

    doctor = app.test_client()
    assert sign_in(doctor, "dr.mehta@clinic.example").status_code == 302
    token = csrf_for(doctor, "/staff/clinical-review")
    approved = doctor.post(
        f"/staff/clinical-review/questions/{question.id}", data={"csrf_token": token}
    )
    assert approved.status_code == 302
    assert NEW in confirmation_text(smtp, book_at, 2)

    # The desk rewords it: patients keep the approved words until it is approved again.
    token = csrf_for(desk, f"/staff/questions/{question.id}")
    reworded = desk.post(
        f"/staff/questions/{question.id}",
        data={"csrf_token": token, "text": "Is sugar a problem?", "active": "y"},
    )
    assert reworded.status_code == 302
    text = confirmation_text(smtp, book_at, 3)
    assert NEW in text and "Is sugar a problem?" not in text
    page = desk.get("/staff/questions").get_data(as_text=True)
    assert "Draft waiting for approval." in page
    review = doctor.get("/staff/clinical-review").get_data(as_text=True)
    assert "changed: patients get the approved wording" in review


def test_fixed_text_is_signed_one_item_at_a_time_and_again_after_a_change(
    app, create_staff, client
):
    user = create_staff("dr.mehta@clinic.example", name="Dr Mehta")
    user.is_clinician = True
    db.session.commit()
    keys = {item.key for item in waiting(db.session) if item.key}
    assert keys == {item.key for item in FIXED}
    assert sign_in(client, "dr.mehta@clinic.example").status_code == 302
    token = csrf_for(client, "/staff/clinical-review")
    assert (
        client.post(
            "/staff/clinical-review/fixed/red_flags", data={"csrf_token": token}
        ).status_code
        == 302
    )
    keys = {item.key for item in waiting(db.session) if item.key}
    assert keys == {item.key for item in FIXED} - {"red_flags"}
    # A change to the words (here the call-back time) puts that item back on the list.
    token = csrf_for(client, "/staff/clinical-review")
    client.post("/staff/clinical-review/fixed/call_back_time", data={"csrf_token": token})
    assert "call_back_time" not in {item.key for item in waiting(db.session)}
    app.config["URGENT_ACK_MINUTES"] = 30
    assert "call_back_time" in {item.key for item in waiting(db.session)}


def test_the_command_lists_what_waits(app, create_staff):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["clinical-review"])
    assert result.exit_code == 1
    assert "The red-flag checklist" in result.output
    assert "Pre-visit question:" in result.output  # the seed questions, not yet signed
