"""Numbers to alert on: /metrics exists only with its token, reports what harms patients when
it goes wrong, carries no personal data, and the alert rules use only what it reports."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa
import yaml

from booking.core.models import OutboundEmail
from booking.extensions import db
from tests.factories import VALID_ANSWERS

TOKEN = "metrics-token-for-the-tests-0123456789"
ROOT = Path(__file__).resolve().parent.parent


def scrape(client, token=TOKEN):
    return client.get("/metrics", headers={"Authorization": f"Bearer {token}"})


def value(text: str, name: str) -> str:
    return re.search(rf"^{re.escape(name)} (\S+)$", text, re.M)[1]


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(app, client):
    assert client.get("/metrics").status_code == 404
    app.config["METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics").status_code == 404
    assert scrape(client, "not-the-token").status_code == 404
    assert scrape(client).status_code == 200


def test_metrics_report_what_harms_patients_and_no_personal_data(
    app, client, consultant, booking_form, smtp
):
    app.config["METRICS_TOKEN"] = TOKEN
    app.config["MANAGE_RATE_LIMIT"] = "1 per hour"
    before = scrape(client).get_data(as_text=True)
    assert value(before, "booking_worker_last_run_seconds") == "+Inf"  # never ran
    assert value(before, "booking_urgent_unreached") == "0.0"

    assert client.post("/book", data=booking_form(red_flags=["fever"])).status_code == 302
    db.session.execute(
        sa.update(OutboundEmail)
        .where(OutboundEmail.kind == "staff_new_booking")
        .values(status="dead")
    )
    db.session.commit()
    for _ in range(2):  # the second is refused by the limit
        client.get("/manage/" + "A" * 43)
    text = scrape(client).get_data(as_text=True)
    assert value(text, "booking_urgent_unreached") == "1.0"
    assert float(value(text, "booking_urgent_oldest_unreached_seconds")) >= 0
    assert value(text, "booking_bookings_last_hour") == "1.0"
    assert float(value(text, "booking_messages_pending")) >= 1
    assert float(value(text, "booking_messages_dead")) >= 1
    assert float(value(text, 'booking_request_seconds_count{group="booking"}')) >= 1
    assert float(value(text, 'booking_rate_limited_total{group="manage"}')) >= 1
    for name, answer in VALID_ANSWERS.items():
        if isinstance(answer, str) and len(answer) > 4:
            assert answer not in text, name
    assert "melanoma" not in text.lower() and "@" not in text


def test_the_alert_rules_use_only_what_metrics_report(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    reported = set(re.findall(r"^# TYPE (\w+)", scrape(client).get_data(as_text=True), re.M))
    rules = yaml.safe_load((ROOT / "deploy" / "alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    assert {rule["alert"] for rule in alerts} >= {"UrgentCallBackNotMade", "WorkerNotRunning"}
    for rule in alerts:
        used = set(re.findall(r"booking_\w+", rule["expr"]))
        assert used and used <= reported, rule["alert"]
