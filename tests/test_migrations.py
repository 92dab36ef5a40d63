"""The migrations build the whole schema on an empty database and match the models exactly."""

import shutil
from datetime import date

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from booking.appointments.changes import cancel_appointment
from booking.core.audit import Actor
from booking.core.crypto import fernet
from booking.core.models import Appointment, PreVisitQuestion
from booking.core.timeutil import now_utc
from booking.core.tokens import find_by_token, hash_token
from booking.extensions import db
from booking.messages.outbox import dispatch_outbox
from tests.apps import Smtp, make_app
from tests.databases import require_postgres, throwaway_database


def insert_consultant() -> None:
    """A consultant (id 1) written with SQL, as an older schema has it (before 0023, with the
    account's own failure counter)."""
    columns = {c["name"] for c in sa.inspect(db.session.connection()).get_columns("staff_user")}
    counter = ("failed_logins, ", "0, ") if "failed_logins" in columns else ("", "")
    db.session.execute(
        sa.text(
            "INSERT INTO staff_user (email, name, password_hash, role, is_consultant, active,"
            f" {counter[0]}session_version, created_at) VALUES ('dr@c.example', 'Dr', 'x',"
            f" 'staff', true, true, {counter[1]}1, '2026-11-01 00:00:00+00')"
        )
    )


def insert_appointment(reference: str, day: str, status="confirmed", urgent=False) -> None:
    """A booking at 04:30 UTC on ``day``, with the columns every schema from 0002 on has."""
    db.session.execute(
        sa.text(
            "INSERT INTO appointment (reference, consultant_id, starts_at, ends_at, status,"
            " urgent, consult_mode, patient_name, patient_email, patient_phone,"
            " preferred_channel, patient_timezone, booked_by, consent_health_at,"
            " consent_reminders, version, submission_key, created_at) VALUES (:ref, 1, :start,"
            " :end, :status, :urgent, 'phone', 'P', 'p@example.com', '+919876543210', 'email',"
            " 'UTC', 'self', '2026-11-01 00:00:00+00', true, 0, :key,"
            " '2026-11-01 00:00:00+00')"
        ),
        {
            "ref": reference,
            "start": f"{day} 04:30:00+00",
            "end": f"{day} 05:00:00+00",
            "status": status,
            "urgent": urgent,
            "key": f"key-{reference}",
        },
    )


def upgrade_and_check(url: str):
    app = make_app(url)
    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output
    with app.app_context():
        questions = db.session.scalars(sa.select(PreVisitQuestion)).all()
        general = [q for q in questions if not q.cancer_type and not q.treatment]
        assert any("goal of treatment" in q.text for q in general)
        assert {q.cancer_type for q in questions} >= {"melanoma", "renal_cell", None}
        db.session.remove()
        db.engine.dispose()


def test_sqlite_upgrade_then_check(tmp_path):
    upgrade_and_check(f"sqlite:///{tmp_path / 'empty.sqlite3'}")


@pytest.mark.postgres
def test_postgresql_upgrade_then_check():
    require_postgres()
    with throwaway_database("migration_check") as url:
        upgrade_and_check(url)


def test_upgrading_keeps_every_booking_and_its_manage_link(tmp_path):
    """0001 to 0002 rebuilds tables on SQLite; no booking, reminder or link may be lost."""
    app = make_app(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0001"]).exit_code == 0
    with app.app_context():
        statements = [
            "INSERT INTO staff_user (email, name, password_hash, role, is_consultant, active,"
            " failed_logins, session_version, created_at)"
            " VALUES ('dr@c.example', 'Dr', 'x', 'staff', 1, 1, 0, 1, '2027-01-01 00:00:00')",
            "INSERT INTO appointment (reference, consultant_id, starts_at, ends_at, status, urgent,"
            " consult_mode, patient_name, patient_email, patient_phone, preferred_channel,"
            " patient_timezone, booked_by, consent_health_at, consent_reminders, version,"
            " manage_token_hash, submission_key, created_at) VALUES ('CT-AAAAAA', 1,"
            " '2027-01-05 04:30:00', '2027-01-05 05:00:00', 'confirmed', 0, 'phone', 'P',"
            " 'p@example.com', '+919876543210', 'email', 'UTC', 'self', '2027-01-01 00:00:00', 1,"
            f" 0, '{hash_token('x' * 43)}', 'key', '2027-01-01 00:00:00')",
            "INSERT INTO intake (appointment_id, cancer_type, stage, diagnosed, treatments,"
            " has_insurance) VALUES (1, 'lymphoma', '2', 'lt3m', 'none', 'no')",
            "INSERT INTO reminder (appointment_id, offset_minutes, due_at, status)"
            " VALUES (1, 120, '2027-01-05 02:30:00', 'pending')",
        ]
        for statement in statements:
            db.session.execute(sa.text(statement))
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        for table in ("appointment", "intake", "reminder", "manage_token"):
            count = db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            assert count == 1, table
        assert find_by_token(db.session, "x" * 43).reference == "CT-AAAAAA"
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    """The URL of an empty database with no schema at all, on SQLite or PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'existing.sqlite3'}"
        return
    require_postgres()
    with throwaway_database("existing_data") as url:
        yield url


def test_0004_puts_urgent_bookings_already_made_on_the_call_back_list(empty_database):
    """Bookings made before the checklist keep their answers; the urgent, still confirmed ones
    wait for a call-back, without escalation emails for all of them on the first run."""
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0003"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        for index, (status, urgent) in enumerate(
            [("confirmed", True), ("cancelled", True), ("confirmed", False)]
        ):
            insert_appointment(f"CT-AAAAA{index}", f"2027-01-0{index + 5}", status, urgent)
            db.session.execute(
                sa.text(
                    "INSERT INTO intake (appointment_id, cancer_type, stage, diagnosed,"
                    " treatments, has_insurance) VALUES (:id, 'lymphoma', '2', 'lt3m', 'none',"
                    " 'no')"
                ),
                {"id": index + 1},
            )
        db.session.commit()
        db.session.remove()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output
    with app.app_context():
        cases = db.session.execute(
            sa.text(
                "SELECT a.reference, c.closed_at, c.next_escalation_at, c.escalations"
                " FROM urgent_case c JOIN appointment a ON a.id = c.appointment_id"
            )
        ).all()
        assert [tuple(case) for case in cases] == [("CT-AAAAA0", None, None, 0)]
        assert db.session.scalar(sa.text("SELECT count(*) FROM intake")) == 3
        assert (
            db.session.scalar(sa.text("SELECT count(*) FROM intake WHERE red_flags IS NULL")) == 3
        )
        db.session.remove()
        db.engine.dispose()


GENERAL_QUESTIONS = [
    "What is the goal of treatment for me",
    "Is cytokine therapy a standard treatment for my cancer",
    "What other options do I have, including other treatments and no cancer treatment",
    "Which tests are needed before treatment could start",
    "Do any of my other health conditions make this treatment unsafe",
    "Which of my medicines, including Ayurvedic",
    "What are the potential side effects",
    "Which symptoms mean I should contact my care team",
    "How will my progress be monitored",
    "Where would treatment be given, and is the medicine available in India?",
    "Whom do we call at night or at the weekend",
    "How would treatment affect work and daily life",
    "Can treatment affect fertility?",
    "What would the whole treatment cost",
    "Will my insurer or government scheme pay for this treatment",
    "Can the hospital help with pre-authorisation, the TPA's paperwork and financial aid?",
    "Can you recommend support groups",
    "Is there a clinical trial I could join? Is it listed in India's Clinical Trials Registry",
    "Can I have a second opinion",
    "How can my family help",
]
IL2 = ["High-dose interleukin-2 needs a hospital stay", "How are severe reactions to interleukin-2"]
INTERFERON = ["Who teaches us to give interferon injections", "Interferon can cause low mood"]


def assert_questions(actual: list[str], expected_starts: list[str]) -> None:
    """Item by item: the same questions, in the same order."""
    assert len(actual) == len(expected_starts), "\n".join(actual)
    for question, start in zip(actual, expected_starts, strict=True):
        assert question.startswith(start), (question, start)


def test_0006_and_0007_keep_existing_bookings_and_correct_the_question_list(empty_database):
    """A database with bookings and the clinic's own edits to the list, upgraded: every booking
    keeps its answers, questions the clinic edited or wrote stay, the presumptive seeds go, and
    the lists patients get are the corrected ones."""
    from booking.intake.consultant_summary import consultant_summary
    from booking.intake.previsit_questions import question_list

    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0005"]).exit_code == 0
    with app.app_context():
        run = db.session.execute
        insert_consultant()
        for index, insured in enumerate(["yes", "no"]):
            insert_appointment(f"CT-BBBBB{index}", f"2027-02-0{index + 1}")
            run(
                sa.text(
                    "INSERT INTO intake (appointment_id, cancer_type, stage, diagnosed,"
                    " treatments, has_insurance, preauthorisation) VALUES (:id, 'melanoma', '3',"
                    " 'lt3m', 'interferon', :insured, :preauth)"
                ),
                {
                    "id": index + 1,
                    "insured": insured,
                    "preauth": "yes" if insured == "yes" else None,
                },
            )
        # The clinic reworded one seed question and wrote one of its own.
        run(
            sa.text(
                "UPDATE previsit_question SET text = 'Could a pegylated interferon suit me?'"
                " WHERE text LIKE 'Could a pegylated interferon%'"
            )
        )
        run(
            sa.text(
                "INSERT INTO previsit_question (text, position, active)"
                " VALUES ('Where can we park at the clinic?', 5, true)"
            )
        )
        db.session.commit()
        db.session.remove()

    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output

    with app.app_context():
        routes = db.session.execute(
            sa.text("SELECT has_insurance, payment_routes, cost_help FROM intake ORDER BY id")
        ).all()
        assert [tuple(row) for row in routes] == [
            ("yes", "private_insurance", False),
            ("no", None, False),
        ]
        texts = db.session.scalars(
            sa.select(PreVisitQuestion.text).order_by(PreVisitQuestion.position)
        ).all()
        assert "Could a pegylated interferon suit me?" in texts  # edited by the clinic: kept
        # The clinic's own questions come after the corrected list, in the clinic's order.
        assert texts[-2:] == [
            "Where can we park at the clinic?",
            "Could a pegylated interferon suit me?",
        ]
        assert not any("given less often" in text for text in texts)
        assert not any("What specific type of cytokine therapy" in text for text in texts)

        melanoma_il2 = question_list(db.session, "melanoma", "interleukin2", ["immunotherapy"])
        assert_questions(
            [q for q in melanoma_il2 if "park" not in q],
            [
                *GENERAL_QUESTIONS,
                "How does interleukin-2 compare with checkpoint inhibitors or targeted therapy",
                *IL2,
                "Is combining interleukin-2 with my checkpoint inhibitor proven",
            ],
        )
        other = question_list(db.session, "other", "not_sure", ["none"])
        assert_questions(
            [q for q in other if "park" not in q], [*GENERAL_QUESTIONS, *IL2, *INTERFERON]
        )
        clear_cell = question_list(db.session, "renal_clear_cell", "interleukin2", [])
        assert any("clear-cell type that interleukin-2 is used for" in q for q in clear_cell)
        cml = question_list(db.session, "cml", "interferon", ["chemotherapy"])
        assert any("still used for my type of leukaemia" in q for q in cml)
        assert cml[-1].startswith(
            "If cytokine therapy were an option, how would it fit with my chemo"
        )

        # A booking made before the new questions still shows on the consultant's summary.
        old = db.session.scalar(sa.select(Appointment).where(Appointment.reference == "CT-BBBBB0"))
        lines = {line.label: line.value for line in consultant_summary(old, date(2027, 1, 1)).lines}
        assert lines["Asking about"] == "Not asked"
        assert lines["Paying by"] == "Private health insurance"
        assert lines["Age"].startswith("Not asked")
        db.session.remove()

    # And back down, and up again: the seeds return, and the corrected list with them.
    assert runner.invoke(args=["db", "downgrade", "0005"]).exit_code == 0
    with app.app_context():
        texts = db.session.scalars(sa.select(PreVisitQuestion.text)).all()
        assert any("given less often" in text for text in texts)
        assert db.session.scalar(sa.text("SELECT count(*) FROM intake")) == 2
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_0008_gives_every_active_booking_its_claim(empty_database):
    """Bookings made before holds existed claim their consultant's time, so a hold can never
    land on them; a cancelled one claims nothing."""
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0007"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        for index, status in enumerate(["confirmed", "cancelled", "completed"]):
            insert_appointment(f"CT-CCCCC{index}", f"2027-03-0{index + 1}", status)
        db.session.commit()
        db.session.remove()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output
    with app.app_context():
        claims = db.session.execute(
            sa.text(
                "SELECT a.reference, c.expires_at, c.holder_hash FROM slot_claim c"
                " JOIN appointment a ON a.id = c.appointment_id ORDER BY a.reference"
            )
        ).all()
        assert [tuple(claim) for claim in claims] == [
            ("CT-CCCCC0", None, None),
            ("CT-CCCCC2", None, None),
        ]
        db.session.remove()
        db.engine.dispose()


def insert_email(key: str, body: str | None) -> None:
    """An outbox row for booking 1, written (``body``) or waiting for the worker (None)."""
    db.session.execute(
        sa.text(
            "INSERT INTO outbound_email (kind, appointment_id, recipient, subject, body_text,"
            " body_html, message_id, status, attempts, next_attempt_at, created_at) VALUES"
            " ('confirmation', 1, 'p@example.com', :subject, :body, :body, :key, 'pending', 0,"
            " '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00')"
        ),
        {"subject": body and "Your consult", "body": body, "key": f"<{key}@c.example>"},
    )


def test_0011_keeps_written_emails_and_will_not_go_back_over_unwritten_ones(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0010"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        insert_appointment("CT-DDDDD1", "2027-03-01")
        insert_email("old", "written before 0011")
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        insert_email("new", None)  # what a booking queues now
        db.session.commit()
        stored = db.session.execute(
            sa.text("SELECT message_id, body_text FROM outbound_email ORDER BY id")
        ).all()
        assert [tuple(row) for row in stored] == [
            ("<old@c.example>", "written before 0011"),
            ("<new@c.example>", None),
        ]
        db.session.remove()
        db.engine.dispose()
    refused = runner.invoke(args=["db", "downgrade", "0010"])
    assert refused.exit_code != 0 and "not written yet" in refused.output
    with app.app_context():
        db.session.execute(
            sa.text(
                "UPDATE outbound_email SET subject = 's', body_text = 'w',"
                " body_html = 'w' WHERE body_text IS NULL"
            )
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0010"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        count = db.session.scalar(sa.text("SELECT count(*) FROM outbound_email"))
        assert count == 2
        db.session.remove()
        db.engine.dispose()


def test_0012_fills_in_the_search_text_of_existing_bookings(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0011"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        insert_appointment("CT-EEEEE1", "2027-03-01")
        db.session.execute(
            sa.text(
                "UPDATE appointment SET patient_name = 'Zoë Mathew', booker_name = 'Anil',"
                " booked_by = 'caregiver', booker_phone = '+919845099911'"
            )
        )
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        [text] = db.session.scalars(sa.text("SELECT search_text FROM appointment")).all()
        assert (
            text == "cteeeee1 | zoe mathew | p@example.com | anil | tel:919876543210 919845099911"
        )
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0011"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()  # no connection left open for the garbage collector to find


def test_0013_gives_video_consults_still_to_come_a_link(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0012"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        for index, status in enumerate(["confirmed", "cancelled", "confirmed"]):
            insert_appointment(f"CT-VVVVV{index}", f"2027-03-0{index + 1}", status)
        db.session.execute(
            sa.text(
                "UPDATE appointment SET consult_mode = 'video'"
                " WHERE reference IN ('CT-VVVVV0', 'CT-VVVVV1')"
            )
        )
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        links = dict(
            db.session.execute(
                sa.text("SELECT reference, video_link FROM appointment ORDER BY reference")
            ).all()
        )
        assert links["CT-VVVVV0"].startswith("https://meet.jit.si/consult-")
        assert links["CT-VVVVV1"] is None  # cancelled
        assert links["CT-VVVVV2"] is None  # a phone consult
        db.session.remove()
        db.engine.dispose()


def test_0014_keeps_existing_consents_unversioned_and_lets_them_be_erased(empty_database):
    """Consents given before the notice had versions stay empty (the staff page says so), and
    an existing booking can be erased once the columns exist."""
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0013"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        insert_appointment("CT-PPPPP0", "2027-03-01")
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        from booking.privacy.erasure import erase

        appointment = db.session.scalar(sa.select(Appointment))
        assert appointment.consent_health_version is None and appointment.erased_at is None
        assert erase(db.session, appointment, now_utc(), Actor.system(), "operator", False)
        db.session.commit()
        row = db.session.execute(sa.text("SELECT patient_name, erased_at FROM appointment")).one()
        assert row.patient_name == "" and row.erased_at is not None
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0013"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0015_sends_existing_staff_to_two_factor_set_up_without_forcing_a_new_password(
    empty_database,
):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0014"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        row = db.session.execute(
            sa.text("SELECT totp_secret, totp_confirmed_at, must_change_password FROM staff_user")
        ).one()
        assert row.totp_secret is None and row.totp_confirmed_at is None
        assert not row.must_change_password
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0014"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0016_sends_what_was_queued_before_it_and_refuses_to_go_back_over_new_messages(
    empty_database,
):
    sink = Smtp().start()
    app = make_app(empty_database, MAIL_PORT=sink.port)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0015"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        insert_appointment("CT-FFFFF1", "2027-03-01")
        insert_email("old", fernet().encrypt(b"written before 0016").decode())
        db.session.execute(  # a staff notice queued unwritten, as a booking did before 0016
            sa.text(
                "INSERT INTO outbound_email (kind, appointment_id, recipient, message_id,"
                " status, attempts, next_attempt_at, created_at) VALUES ('staff_new_booking',"
                " 1, 'desk@c.example', '<unwritten@c.example>', 'pending', 0,"
                " '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00')"
            )
        )
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        assert dispatch_outbox(db.session).sent == 2
        by_recipient = {message["To"]: message for message in sink.messages}
        assert "CT-FFFFF1" in by_recipient["desk@c.example"]["Subject"]
        old = by_recipient["p@example.com"].get_body(("plain",)).get_content()
        assert old.strip() == "written before 0016"
        # A kind the service does not know is refused by the database itself.
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(
                sa.text("UPDATE outbound_email SET kind = 'newsletter' WHERE id = 1")
            )
            db.session.flush()
        db.session.rollback()
        # A cancellation queued now waits unwritten, with its facts.
        appointment = db.session.get_one(Appointment, 1)
        cancel_appointment(db.session, appointment, now_utc(), Actor.patient())
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0016"]).exit_code == 0
    refused = runner.invoke(args=["db", "downgrade", "0015"])
    assert refused.exit_code != 0 and "not written yet" in refused.output
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        report = dispatch_outbox(db.session)
        assert report.sent == report.claimed == 2  # the cancellation and its staff notice
        db.session.remove()
        db.engine.dispose()
    sink.stop()
    back = runner.invoke(args=["db", "downgrade", "0015"])
    assert back.exit_code == 0, back.output
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        kinds = db.session.scalars(sa.text("SELECT kind FROM outbound_email ORDER BY id"))
        assert kinds.all()[:3] == ["confirmation", "staff_new_booking", "cancelled"]
        db.session.remove()
        db.engine.dispose()


def test_0017_sends_a_relatives_booking_to_the_relative_when_the_patient_may_not_know(
    empty_database,
):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0016"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        for reference, day in (("CT-GGGGG1", "2027-03-01"), ("CT-GGGGG2", "2027-03-02")):
            insert_appointment(reference, day)
        insert_appointment("CT-GGGGG3", "2027-03-03")
        db.session.execute(
            sa.text(
                "UPDATE appointment SET booked_by = 'caregiver', booker_name = 'Ravi',"
                " booker_email = 'ravi@example.com', booker_phone = '+919123456789',"
                " patient_timezone = 'America/New_York', patient_agrees = CASE reference"
                " WHEN 'CT-GGGGG1' THEN 'not_yet' ELSE 'yes' END"
                " WHERE reference IN ('CT-GGGGG1', 'CT-GGGGG2')"
            )
        )
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        rows = db.session.execute(
            sa.text(
                "SELECT reference, messages_to, relative_timezone FROM appointment"
                " ORDER BY reference"
            )
        ).all()
        assert [tuple(row) for row in rows] == [
            ("CT-GGGGG1", "relative", "America/New_York"),
            ("CT-GGGGG2", "both", "America/New_York"),
            ("CT-GGGGG3", "patient", None),
        ]
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.text("UPDATE appointment SET messages_to = 'neighbour'"))
            db.session.flush()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0016"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0018_keeps_every_message_as_an_email_and_goes_back_without_the_texts(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0017"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        insert_appointment("CT-HHHHH1", "2027-03-01")
        insert_email("old", fernet().encrypt(b"written before 0018").decode())
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        row = db.session.execute(sa.text("SELECT channel, delivery FROM outbound_email")).one()
        assert tuple(row) == ("email", None)
        db.session.execute(
            sa.text(
                "INSERT INTO outbound_email (kind, channel, appointment_id, recipient,"
                " message_id, status, attempts, next_attempt_at, created_at) VALUES"
                " ('change_link', 'whatsapp', 1, '+919876543210', '<t@c.example>', 'sent', 1,"
                " '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00')"
            )
        )
        db.session.commit()
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.text("UPDATE outbound_email SET channel = 'pigeon'"))
            db.session.flush()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0017"]).exit_code == 0
    with app.app_context():
        kinds = db.session.scalars(sa.text("SELECT message_id FROM outbound_email")).all()
        assert kinds == ["<old@c.example>"]
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0019_keeps_questions_in_use_unsigned_and_goes_back_with_only_approved_wording(
    empty_database,
):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0018"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        db.session.execute(
            sa.text(
                "INSERT INTO previsit_question (text, position, active) VALUES"
                " ('Written by the desk before 0019?', 990, true)"
            )
        )
        db.session.commit()
        in_use = db.session.scalar(sa.text("SELECT count(*) FROM previsit_question"))
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade", "0019"]).exit_code == 0
    with app.app_context():
        rows = db.session.execute(
            sa.text("SELECT text, approved_text, approved_by_id FROM previsit_question")
        ).all()
        assert len(rows) == in_use
        assert all(text == approved and by is None for text, approved, by in rows)
        assert not db.session.scalar(sa.text("SELECT is_clinician FROM staff_user"))
        # A desk draft of the desk's question, and a new question no clinician has seen.
        db.session.execute(
            sa.text(
                "UPDATE previsit_question SET text = 'A draft nobody approved?'"
                " WHERE position = 990"
            )
        )
        db.session.execute(
            sa.text(
                "INSERT INTO previsit_question (text, position, active) VALUES"
                " ('Never approved?', 991, true)"
            )
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0018"]).exit_code == 0
    with app.app_context():
        rows = db.session.execute(
            sa.text(
                "SELECT text, active FROM previsit_question WHERE position >= 990 ORDER BY position"
            )
        ).all()
        assert [(text, bool(active)) for text, active in rows] == [
            ("Written by the desk before 0019?", True),
            ("Never approved?", False),
        ]
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0020_rewords_untouched_seed_questions_as_drafts_and_leaves_the_clinics_alone(
    empty_database,
):
    injections = "Who teaches us to give interferon injections, how often are they given"
    low_mood = "Interferon can cause low mood: how will my mood be checked during treatment?"
    reactions = "How are severe reactions to interleukin-2 watched for and treated?"
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0019"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        # The clinic edited one seed question, and a clinician signed another as it was.
        db.session.execute(
            sa.text(
                "UPDATE previsit_question SET text = 'Who shows us the injections?',"
                " approved_text = 'Who shows us the injections?' WHERE text LIKE :start"
            ),
            {"start": injections + "%"},
        )
        db.session.execute(
            sa.text("UPDATE previsit_question SET approved_by_id = 1 WHERE text = :text"),
            {"text": low_mood},
        )
        db.session.commit()
        before = db.session.scalar(sa.text("SELECT count(*) FROM previsit_question"))
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():

        def row(where: str, **values):
            return db.session.execute(
                sa.text(f"SELECT text, approved_text, younger_than FROM previsit_question {where}"),
                values,
            ).one()

        assert tuple(row("WHERE approved_text = 'Who shows us the injections?'")) == (
            "Who shows us the injections?",
            "Who shows us the injections?",
            None,
        )
        assert tuple(row("WHERE text = :text", text=low_mood)) == (low_mood, low_mood, None)
        # An untouched seed: a draft in the new words, the old ones still sent.
        text, approved, _ = row("WHERE approved_text = :text", text=reactions)
        assert text.startswith("If it were offered to me, how would severe reactions")
        assert row("WHERE text LIKE 'Can treatment affect fertility?%'")[2] == 50
        added = db.session.scalars(
            sa.text("SELECT text FROM previsit_question WHERE approved_text IS NULL")
        ).all()
        assert len(added) == 12
        assert db.session.scalar(sa.text("SELECT count(*) FROM previsit_question")) == before + 12
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0019"]).exit_code == 0
    with app.app_context():
        texts = db.session.scalars(sa.text("SELECT text FROM previsit_question")).all()
        assert len(texts) == before
        assert reactions in texts and "Who shows us the injections?" in texts
        assert not any(text.startswith("If it were offered") for text in texts)
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0021_leaves_whose_card_unasked_for_bookings_made_before(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0020"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        insert_appointment("CT-CARD01", "2027-03-01")
        db.session.execute(
            sa.text(
                "INSERT INTO intake (appointment_id, cancer_type, stage, diagnosed, treatments,"
                " has_insurance, payment_routes) VALUES (1, 'breast', '2', 'lt3m', 'none', 'no',"
                " 'cghs,self_pay')"
            )
        )
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        row = db.session.execute(sa.text("SELECT payment_routes, card_holder FROM intake")).one()
        assert tuple(row) == ("cghs,self_pay", None)
        db.session.execute(sa.text("UPDATE intake SET card_holder = 'parent'"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0020"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT payment_routes FROM intake")) == "cghs,self_pay"
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0022_adds_drafts_beside_bookings_made_before(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0021"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        insert_appointment("CT-DRAFT1", "2027-03-01")
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT count(*) FROM booking_draft")) == 0
        db.session.execute(
            sa.text(
                "INSERT INTO booking_draft (holder_hash, answers, updated_at, expires_at)"
                " VALUES ('h1', 'sealed', '2027-02-01 10:00:00', '2027-02-01 10:15:00')"
            )
        )
        db.session.commit()
        # One draft per hold: a second row for the same holder is refused.
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(
                sa.text(
                    "INSERT INTO booking_draft (holder_hash, answers, updated_at, expires_at)"
                    " VALUES ('h1', 'again', '2027-02-01 10:01:00', '2027-02-01 10:16:00')"
                )
            )
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0021"]).exit_code == 0
    with app.app_context():
        assert "booking_draft" not in sa.inspect(db.engine).get_table_names()
        assert db.session.scalar(sa.text("SELECT reference FROM appointment")) == "CT-DRAFT1"
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0023_counts_failures_by_address_and_keeps_the_accounts(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0022"]).exit_code == 0
    with app.app_context():
        insert_consultant()
        db.session.execute(
            sa.text("UPDATE staff_user SET failed_logins = 4, locked_until = '2027-01-01 10:00:00'")
        )
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        # The account is still there and no longer locked for everyone.
        assert db.session.scalar(sa.text("SELECT email FROM staff_user")) == "dr@c.example"
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("staff_user")}
        assert not {"failed_logins", "locked_until"} & columns
        db.session.execute(
            sa.text(
                "INSERT INTO sign_in_failure (staff_user_id, client, at)"
                " VALUES (1, '203.0.113.7', '2027-01-01 10:00:00')"
            )
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0022"]).exit_code == 0
    with app.app_context():
        row = db.session.execute(sa.text("SELECT email, failed_logins FROM staff_user")).one()
        assert tuple(row) == ("dr@c.example", 0)
        assert "sign_in_failure" not in sa.inspect(db.engine).get_table_names()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


FAILING_MIGRATION = '''"""Made to fail part way, after a new table and a new column."""

import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"


def upgrade():
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    with op.batch_alter_table("staff_user") as batch_op:
        batch_op.add_column(sa.Column("half_done", sa.Integer(), nullable=True))
    op.execute("INSERT INTO half_done (id) VALUES (1)")
    raise RuntimeError("made to fail")


def downgrade():
    pass
'''


def test_a_migration_that_fails_part_way_leaves_the_database_as_it_was(
    empty_database, tmp_path, caplog
):
    head = ScriptDirectory("migrations").get_current_head()
    migrations = tmp_path / "migrations"
    shutil.copytree("migrations", migrations, ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions" / "9999_fails.py").write_text(FAILING_MIGRATION.format(head=head))
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0022"]).exit_code == 0
    with app.app_context():
        insert_consultant()  # as that schema has it
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    failed = runner.invoke(args=["db", "upgrade", "-d", str(migrations)])
    assert failed.exit_code != 0 and "made to fail" in failed.output + caplog.text
    assert f"the database is at revision {head}, as before it" in failed.output + caplog.text
    with app.app_context():
        inspector = sa.inspect(db.engine)
        assert "half_done" not in inspector.get_table_names()
        assert "half_done" not in {c["name"] for c in inspector.get_columns("staff_user")}
        assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == head
        assert db.session.scalar(sa.text("SELECT email FROM staff_user")) == "dr@c.example"
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0024_takes_the_contact_change_notice_and_keeps_the_messages_before(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0023"]).exit_code == 0
    outbox_row = (
        "INSERT INTO outbound_email (kind, channel, appointment_id, recipient, message_id,"
        " status, attempts, next_attempt_at, created_at) VALUES (:kind, 'email', 1,"
        " 'p@example.com', :message_id, 'sent', 1, '2026-11-01 00:00:00+00',"
        " '2026-11-01 00:00:00+00')"
    )
    with app.app_context():
        insert_consultant()
        insert_appointment("CT-CONT01", "2027-03-01")
        db.session.execute(sa.text(outbox_row), {"kind": "moved", "message_id": "<a@c>"})
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT data_held_at FROM appointment")) is None
        db.session.execute(sa.text(outbox_row), {"kind": "contact_changed", "message_id": "<b@c>"})
        db.session.commit()
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.text(outbox_row), {"kind": "carrier_pigeon", "message_id": "<c>"})
            db.session.flush()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0023"]).exit_code == 0
    with app.app_context():
        kinds = db.session.scalars(sa.text("SELECT kind FROM outbound_email")).all()
        assert kinds == ["moved"]
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0025_keeps_who_waits_and_deletes_a_waitlist_entrys_messages_with_it(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0024"]).exit_code == 0
    entry = (
        "INSERT INTO waitlist_entry (id, created_at, name, email, phone, preferred_channel,"
        " language, timezone, weekdays, day_parts, status) VALUES (:id, '2026-11-01 00:00:00',"
        " 'Meera', :email, :phone, 'email', 'en', 'Asia/Kolkata', '0', 'morning', :status)"
    )
    with app.app_context():
        db.session.execute(
            sa.text(entry),
            {"id": 1, "email": "m@example.com", "phone": "+919800000001", "status": "waiting"},
        )
        db.session.commit()
        db.session.remove()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    with app.app_context():
        # Who joined before waits as before: there was nothing to confirm then.
        assert db.session.scalar(sa.text("SELECT status FROM waitlist_entry")) == "waiting"
        db.session.execute(
            sa.text(entry),
            {"id": 2, "email": "p@example.com", "phone": "+919800000002", "status": "pending"},
        )
        db.session.execute(
            sa.text(
                "INSERT INTO waitlist_link (entry_id, token_hash, created_at) VALUES"
                " (2, 'h', '2026-11-01 00:00:00')"
            )
        )
        db.session.execute(
            sa.text(
                "INSERT INTO outbound_email (kind, channel, waitlist_entry_id, recipient,"
                " message_id, status, attempts, next_attempt_at, created_at) VALUES"
                " ('waitlist_confirm', 'email', 2, 'p@example.com', '<w@c>', 'pending', 0,"
                " '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00')"
            )
        )
        db.session.commit()
        db.session.execute(sa.text("DELETE FROM waitlist_entry WHERE id = 2"))
        db.session.commit()
        for table in ("waitlist_link", "outbound_email"):
            assert db.session.scalar(sa.text(f"SELECT count(*) FROM {table}")) == 0, table
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0024"]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT name FROM waitlist_entry")) == "Meera"
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()


def test_0026_adds_the_worker_heartbeat_and_its_late_notice(empty_database):
    app = make_app(empty_database)
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0025"]).exit_code == 0
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    late = (
        "INSERT INTO outbound_email (kind, channel, recipient, message_id, status, attempts,"
        " next_attempt_at, created_at) VALUES ('staff_worker_late', 'email', 'lead@c.example',"
        " '<l@c>', 'pending', 0, '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00')"
    )
    with app.app_context():
        db.session.execute(
            sa.text(
                "INSERT INTO worker_heartbeat (job, last_run_at) VALUES"
                " ('reminders', '2026-11-01 00:00:00+00')"
            )
        )
        db.session.execute(sa.text(late))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "downgrade", "0025"]).exit_code == 0
    with app.app_context():
        assert "worker_heartbeat" not in sa.inspect(db.engine).get_table_names()
        assert db.session.scalar(sa.text("SELECT count(*) FROM outbound_email")) == 0
        db.session.remove()
        db.engine.dispose()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        db.engine.dispose()
