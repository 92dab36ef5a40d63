"""``make run`` as a newcomer meets it: the Makefile's own commands migrate an empty database,
add the demo staff and start the server with its worker, mail sink and WhatsApp/SMS stand-in;
one booking made over HTTP reaches the sink as emails and the stand-in as a WhatsApp message,
sent by that worker."""

from __future__ import annotations

import email
import email.policy
import http.cookiejar
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.apps import free_port
from tests.browser import ROOT
from tests.factories import VALID_ANSWERS
from tests.helpers import csrf_token, offered_times


def run_recipe() -> list[list[str]]:
    """The ``run`` target's commands from the Makefile, with ``$(FLASK)`` spelled out."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^run:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "the Makefile has no run target"
    flask = [sys.executable, "-m", "flask", "--app", "booking"]
    commands = []
    for line in recipe[1].splitlines():
        words = line.split()
        assert words[0] == "$(FLASK)", f"make run does more than flask commands: {line}"
        commands.append(flask + words[1:])
    return commands


def wait_for(check, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"waited {seconds} s for {what}")


def received(folder: Path) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(folder.glob("*.eml"))
    ]


@pytest.mark.real_clock  # waits for the server with time.sleep
def test_make_run_starts_a_server_whose_worker_sends_the_booking_emails(tmp_path):
    port = free_port()
    instance = tmp_path / "instance"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "MAIL_SERVER", "BASE_URL", "SECRET_KEY", "ENCRYPTION_KEYS"}
    }
    env.update(
        APP_ENV="development",
        INSTANCE_PATH=str(instance),
        PORT=str(port),
        MAIL_PORT=str(free_port()),
        OUTBOX_INTERVAL="1s",
    )
    *setup, serve = run_recipe()
    for command in setup:
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    server = subprocess.Popen(
        serve, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )

    def get(path: str) -> str:
        with browser.open(base + path, timeout=10) as response:
            return response.read().decode()

    def post(path: str, data: dict) -> str:
        body = urllib.parse.urlencode(data, doseq=True).encode()
        with browser.open(base + path, data=body, timeout=10) as response:
            return response.geturl()

    def up() -> bool:
        try:
            return "ok" in get("/healthz")
        except (urllib.error.URLError, ConnectionError):
            return False

    try:
        wait_for(up, 30, "the server to answer")
        first = get("/book?tz=Asia/Kolkata")
        slot = offered_times(first)[0]
        post("/book/time", {"csrf_token": csrf_token(first), "slot": slot})
        details = get("/book/details")
        answers = dict(
            VALID_ANSWERS,
            preferred_channel="whatsapp",
            csrf_token=csrf_token(details),
            submission_key=secrets.token_urlsafe(24),
            slot=slot,
        )
        assert post("/book", answers) == f"{base}/book/confirmed"

        def both_emails():
            messages = received(instance / "mail")
            return messages if len(messages) >= 2 else None

        messages = wait_for(both_emails, 30, "the worker to send the booking's emails")
        to_patient = [
            m for m in messages if m["To"].addresses[0].addr_spec == "asha.verma@example.com"
        ]
        assert len(to_patient) == 1 and "is booked" in to_patient[0]["Subject"]
        assert any(m["To"].addresses[0].addr_spec == "reception@clinic.example" for m in messages)

        # The patient chose WhatsApp: the stand-in keeps the confirmation, as sent.
        def whatsapp_confirmation():
            kept = [json.loads(p.read_text()) for p in (instance / "messages").glob("*.json")]
            return [m for m in kept if m["channel"] == "whatsapp"]

        [text] = wait_for(whatsapp_confirmation, 30, "the WhatsApp confirmation")
        assert text["to"] == "919876543210" and text["template"]["name"] == "consult_booked"
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=20)
    assert "Worker running in this process" in output
    assert server.returncode == 0, output
