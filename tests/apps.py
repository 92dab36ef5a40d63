"""The app as the tests build it: on a database they name, with a key of the run's own, a
client whose ``g`` starts empty at each request like production's, a real SMTP sink, and the
app served over HTTP for the webhooks of the WhatsApp and SMS stand-in."""

from __future__ import annotations

import socket
import threading

from cryptography.fernet import Fernet
from flask import g, has_app_context
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from booking import create_app
from booking.messages.mailsink import start_sink
from config import TestingConfig

TEST_KEY = Fernet.generate_key().decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_app(database_url: str, **overrides):
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "ENCRYPTION_KEYS": TEST_KEY}
    settings.update(overrides)
    return create_app(TestingConfig, **settings)


class FreshGlobalsClient(FlaskClient):
    """The tests hold an app context open (to use ``db.session`` between requests), and Flask
    reuses it for each request, so ``g`` would carry over: the signed-in user, the CSRF token.
    In production every request starts with an empty ``g``; so does every request here."""

    def open(self, *args, **kwargs):
        if has_app_context():
            for name in list(vars(g)):
                delattr(g, name)
        return super().open(*args, **kwargs)


class Smtp:
    """A running aiosmtpd sink: ``messages`` holds what it received."""

    def __init__(self):
        self.port = free_port()
        self.controller = None
        self.sink = None

    def start(self):
        self.controller, self.sink = start_sink("127.0.0.1", self.port)
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        return self.sink.messages if self.sink else []


# The WhatsApp and SMS settings the tests' stand-in checks requests against.
TEXTS_SETTINGS = {
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "WHATSAPP_TOKEN": "test-whatsapp-token",
    "WHATSAPP_APP_SECRET": "test-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "test-verify-token",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "test-auth-token",
    "TWILIO_FROM": "+15005550006",
    "SMS_DLT_ENTITY_ID": "1201159100000000000",
}


class ServedApp:
    """The app behind a real HTTP server in a thread, as providers reach it."""

    def __init__(self, app):
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> ServedApp:
        self.app.config["BASE_URL"] = self.url
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
