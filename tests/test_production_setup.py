"""The README's production section, followed on a fresh PostgreSQL database with Redis: its
own commands migrate, add staff and hours, start gunicorn with two workers and a separate
worker process. One booking over HTTP gets its confirmation; the worker is killed with
SIGKILL and started again, and a reminder that fell due meanwhile is sent once."""

from __future__ import annotations

import email
import email.policy
import http.client
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from booking.messages.mailsink import start_sink
from tests.apps import free_port
from tests.databases import require_postgres, throwaway_database
from tests.factories import STAFF_PASSWORD, VALID_ANSWERS
from tests.helpers import csrf_token, offered_times
from tests.test_make_run import wait_for

ROOT = Path(__file__).resolve().parent.parent


def production_block() -> tuple[list[str], list[list[str]]]:
    """The README's production commands: the settings it exports, then each command."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Running in production\n\n```sh\n(.*?)```", readme, re.S)
    assert block, "the README has no production commands"
    exported, commands = [], []
    for line in block[1].splitlines():
        line = line.split("  #", 1)[0].strip()
        if line.startswith("export "):
            exported += [part.split("=", 1)[0] for part in line[7:].split() if "=" in part]
        elif line and not line.startswith("pip "):
            commands.append(shlex.split(line))
    return exported, commands


class Browser:
    """A client that keeps its cookies, as the Secure session cookie behind TLS would be
    kept: the proxy's X-Forwarded-Proto says the request came over HTTPS."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        headers = {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.20",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        page = response.read().decode()
        connection.close()
        return response.status, response.getheader("Location"), page


@pytest.mark.real_clock  # real processes on the real clock
def test_the_readme_production_commands_run_a_service_that_survives_a_killed_worker(tmp_path):
    require_postgres()
    if not (redis := shutil.which("redis-server")):
        pytest.skip("redis-server is not installed here")
    exported, commands = production_block()
    assert {"APP_ENV", "SECRET_KEY", "ENCRYPTION_KEYS", "DATABASE_URL"} <= set(exported)
    web_port, mail_port, redis_port = free_port(), free_port(), free_port()
    controller, sink = start_sink("127.0.0.1", mail_port)
    redis_server = subprocess.Popen(
        [redis, "--port", str(redis_port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    processes: list[subprocess.Popen] = []
    with ExitStack() as stack:
        database_url = stack.enter_context(throwaway_database("production"))
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "TEST_DATABASE_URL"}
        }
        env.update(
            APP_ENV="production",
            SECRET_KEY=secrets.token_hex(32),
            ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            DATABASE_URL=database_url,
            RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{redis_port}",
            BASE_URL=f"http://127.0.0.1:{web_port}",
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=str(mail_port),
            TRUSTED_PROXY_COUNT="1",
            OUTBOX_INTERVAL="1s",
            REMINDER_INTERVAL="1s",
            PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        )
        try:
            *setup, web, worker_command = commands
            for command in setup:
                done = subprocess.run(
                    command,
                    env=env,
                    cwd=ROOT,
                    input=f"{STAFF_PASSWORD}\n{STAFF_PASSWORD}\n",
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
            assert web[0] == "gunicorn"
            web[web.index("--workers") + 1] = "2"  # two, on this machine's two cores
            web = [arg.replace("127.0.0.1:8000", f"127.0.0.1:{web_port}") for arg in web]
            log = stack.enter_context((tmp_path / "services.log").open("w"))
            processes.append(subprocess.Popen(web, env=env, cwd=ROOT, stdout=log, stderr=log))
            worker = subprocess.Popen(worker_command, env=env, cwd=ROOT, stdout=log, stderr=log)
            processes.append(worker)

            browser = Browser(web_port)
            try:
                wait_for(lambda: _up(browser), 30, "gunicorn to answer")
            except AssertionError:
                raise AssertionError((tmp_path / "services.log").read_text()[-3000:]) from None
            _, _, first = browser.request("GET", "/book?tz=Asia/Kolkata")
            slot = offered_times(first)[0]
            browser.request("POST", "/book/time", {"csrf_token": csrf_token(first), "slot": slot})
            _, _, details = browser.request("GET", "/book/details?step=5")
            answers = dict(
                VALID_ANSWERS,
                csrf_token=csrf_token(details),
                submission_key=secrets.token_urlsafe(24),
                slot=slot,
                timezone="Asia/Kolkata",
            )
            status, location, _ = browser.request("POST", "/book", answers)
            assert status == 302 and location.endswith("/book/confirmed")
            to_patient = lambda subject: [  # noqa: E731
                m
                for m in _messages(sink)
                if m["To"] == VALID_ANSWERS["patient_email"] and subject in m["Subject"]
            ]
            wait_for(lambda: to_patient("is booked"), 30, "the confirmation")

            # The worker dies; meanwhile the booking's first reminder falls due.
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            engine = sa.create_engine(database_url)
            with engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "UPDATE reminder SET due_at = now() - :a_moment WHERE id ="
                        " (SELECT min(id) FROM reminder WHERE status = 'pending')"
                    ),
                    {"a_moment": timedelta(seconds=1)},
                )
            engine.dispose()
            worker = subprocess.Popen(worker_command, env=env, cwd=ROOT, stdout=log, stderr=log)
            processes.append(worker)
            wait_for(lambda: to_patient("Reminder"), 30, "the reminder after the restart")
            time.sleep(3)  # three more runs of each job: nothing is sent twice
            assert len(to_patient("Reminder")) == 1 and len(to_patient("is booked")) == 1
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
            redis_server.terminate()
            redis_server.wait(timeout=10)
            controller.stop()


def _up(browser: Browser) -> bool:
    try:
        return browser.request("GET", "/healthz")[0] == 200
    except OSError:
        return False


def _messages(sink) -> list[email.message.EmailMessage]:
    return list(sink.messages)
