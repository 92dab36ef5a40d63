"""A local SMTP server that keeps every message: the mail server of ``make run`` and the tests.

It is a real aiosmtpd server on loopback, so the code under test speaks real SMTP to it.
"""

from __future__ import annotations

import email
import email.policy
import os
import socket
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


class MailSink:
    """An aiosmtpd handler that keeps messages in memory and, if given a folder, as .eml files."""

    def __init__(self, directory: str | Path | None = None):
        self.directory = Path(directory) if directory else None
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()  # recipients to refuse, for tests of per-message failure
        self._lock = threading.Lock()
        self._count = 0
        if self.directory:
            # The emails hold patients' names and question lists: owner-only, like instance/.
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self._count += 1
            number = self._count
        if self.directory:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
            path = self.directory / f"{stamp}-{number:05d}.eml"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
        return "250 Message accepted for delivery"


def start_sink(
    host: str, port: int, directory: str | Path | None = None
) -> tuple[Controller, MailSink]:
    """Start the sink in its own thread; ``controller.stop()`` ends it."""
    sink = MailSink(directory)
    controller = Controller(sink, hostname=host, port=port)
    controller.start()
    return controller, sink


def sink_port(wanted: int, host: str = "127.0.0.1") -> int:
    """``wanted`` if it is free, else a free port: a second checkout, or another program on
    8025, must not stop ``make run`` from starting."""
    with socket.socket() as probe:
        try:
            probe.bind((host, wanted))
            return wanted
        except OSError:
            probe.bind((host, 0))
            return probe.getsockname()[1]
