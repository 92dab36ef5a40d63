"""The local stand-in for WhatsApp's Cloud API and Twilio, for ``make run`` and the tests.

A small HTTP server on loopback that takes the same requests as the real services (paths,
auth headers, JSON or form bodies) and answers like them (message ids, error bodies), keeps
each accepted message as a JSON file in ``instance/messages/``, and posts the delivery
statuses back to the service's webhooks, signed as the real ones sign them
(``X-Hub-Signature-256``, ``X-Twilio-Signature``). It can be told to fail (a 429 or a 500 for
the next requests), to treat a number as not on WhatsApp, and to post a reader's reply (a
quick-reply button or a text such as STOP), so every path can be tried end to end without the
real services and without mocking the client code.

Control requests (JSON, loopback only): ``POST /_local/fail`` ``{"channel", "status",
"times"}``; ``POST /_local/not-on-whatsapp`` ``{"number"}``; ``POST /_local/reply``
``{"from", "payload"}`` or ``{"from", "text"}``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .texts import twilio_signature

WEBHOOK_TRIES = 6  # a webhook the service did not take (yet) is posted again, like the real ones


@dataclass
class Settings:
    """What the stand-in checks requests against and signs webhooks with."""

    folder: Path
    whatsapp_token: str
    whatsapp_app_secret: str
    whatsapp_webhook: str  # the service's /webhooks/whatsapp
    twilio_account_sid: str
    twilio_auth_token: str
    failures: dict[str, list[int]] = field(default_factory=dict)
    not_on_whatsapp: set[str] = field(default_factory=set)


class LocalProvider:
    """Start with :meth:`start`, stop with :meth:`stop`; ``url`` is where it listens."""

    def __init__(self, settings: Settings, port: int = 0):
        self.settings = settings
        settings.folder.mkdir(parents=True, exist_ok=True)
        handler = type("Handler", (_Handler,), {"settings": settings})
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LocalProvider:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def messages(self) -> list[dict]:
        """Every message accepted so far, oldest first."""
        files = sorted(self.settings.folder.glob("*.json"))
        return [json.loads(path.read_text()) for path in files]


def _now() -> str:
    return datetime.now(UTC).isoformat()


class _Handler(BaseHTTPRequestHandler):
    settings: Settings

    def log_message(self, format, *args):  # noqa: A002 - the name is the base class's
        pass  # quiet: the JSON files are the record

    def _answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_POST(self):  # noqa: N802 - the name http.server calls
        path = urllib.parse.urlsplit(self.path).path
        raw = self._body()
        if path.startswith("/_local/"):
            return self._control(path, json.loads(raw or b"{}"))
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[2] == "messages":
            return self._whatsapp(json.loads(raw or b"{}"))
        if (
            len(parts) == 4
            and parts[:2] == ["2010-04-01", "Accounts"]
            and parts[3] == "Messages.json"
        ):
            return self._twilio(parts[2], dict(urllib.parse.parse_qsl(raw.decode())))
        self._answer(404, {"error": {"message": "Unknown path", "code": 100}})

    # -- the control requests of the tests and make run

    def _control(self, path: str, body: dict) -> None:
        settings = self.settings
        if path == "/_local/fail":
            times = int(body.get("times", 1))
            settings.failures.setdefault(body["channel"], []).extend([int(body["status"])] * times)
        elif path == "/_local/not-on-whatsapp":
            settings.not_on_whatsapp.add(body["number"].lstrip("+"))
        elif path == "/_local/reply":
            _later(_whatsapp_reply, settings, body)
        else:
            return self._answer(404, {"error": "unknown control"})
        self._answer(200, {"ok": True})

    def _failure(self, channel: str) -> int | None:
        queue = self.settings.failures.get(channel)
        return queue.pop(0) if queue else None

    # -- WhatsApp Cloud API: POST /{version}/{phone-number-id}/messages

    def _whatsapp(self, body: dict) -> None:
        if self.headers.get("Authorization") != f"Bearer {self.settings.whatsapp_token}":
            return self._answer(
                401,
                {
                    "error": {
                        "message": "Invalid OAuth access token.",
                        "type": "OAuthException",
                        "code": 190,
                        "fbtrace_id": secrets.token_hex(8),
                    }
                },
            )
        failure = self._failure("whatsapp")
        if failure == 429:
            return self._answer(
                429,
                {
                    "error": {
                        "message": "(#130429) Rate limit hit",
                        "type": "OAuthException",
                        "code": 130429,
                        "fbtrace_id": secrets.token_hex(8),
                    }
                },
            )
        if failure:
            return self._answer(
                failure,
                {
                    "error": {
                        "message": "An unknown error occurred",
                        "type": "OAuthException",
                        "code": 1,
                        "fbtrace_id": secrets.token_hex(8),
                    }
                },
            )
        if body.get("messaging_product") != "whatsapp" or not body.get("to"):
            return self._answer(
                400,
                {
                    "error": {
                        "message": "(#100) Invalid parameter",
                        "type": "OAuthException",
                        "code": 100,
                        "fbtrace_id": secrets.token_hex(8),
                    }
                },
            )
        message_id = "wamid." + base64.urlsafe_b64encode(secrets.token_bytes(24)).decode()
        _keep(
            self.settings.folder,
            message_id,
            {
                "channel": "whatsapp",
                "id": message_id,
                "to": body["to"],
                "type": body.get("type"),
                "template": body.get("template"),
                "text": body.get("text"),
                "at": _now(),
            },
        )
        self._answer(
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": message_id, "message_status": "accepted"}],
            },
        )
        statuses: list[tuple[str, dict | None]]
        if body["to"] in self.settings.not_on_whatsapp:
            statuses = [("failed", {"code": 131026, "title": "Message undeliverable"})]
        else:
            statuses = [("sent", None), ("delivered", None)]
        _later(_whatsapp_statuses, self.settings, message_id, body["to"], statuses)

    # -- Twilio: POST /2010-04-01/Accounts/{AccountSid}/Messages.json

    def _twilio(self, account: str, form: dict[str, str]) -> None:
        settings = self.settings
        expected = base64.b64encode(
            f"{settings.twilio_account_sid}:{settings.twilio_auth_token}".encode()
        ).decode()
        if (
            account != settings.twilio_account_sid
            or self.headers.get("Authorization") != f"Basic {expected}"
        ):
            return self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
        failure = self._failure("sms")
        if failure:
            code = 20429 if failure == 429 else 20500
            return self._answer(
                failure, {"code": code, "message": "Try again later", "status": failure}
            )
        if not form.get("To", "").startswith("+") or not form.get("Body"):
            return self._answer(
                400, {"code": 21211, "message": "Invalid 'To' Phone Number", "status": 400}
            )
        sid = "SM" + secrets.token_hex(16)
        _keep(
            settings.folder,
            sid,
            {
                "channel": "sms",
                "id": sid,
                "to": form["To"],
                "from": form.get("From"),
                "body": form["Body"],
                "at": _now(),
            },
        )
        self._answer(
            201,
            {
                "sid": sid,
                "account_sid": account,
                "to": form["To"],
                "from": form.get("From"),
                "body": form["Body"],
                "status": "queued",
                "num_segments": "1",
            },
        )
        callback = form.get("StatusCallback")
        if callback:
            _later(_twilio_statuses, settings, callback, sid, form)


def _keep(folder: Path, message_id: str, record: dict) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    name = f"{stamp}-{hashlib.sha256(message_id.encode()).hexdigest()[:8]}.json"
    (folder / name).write_text(json.dumps(record, indent=2, ensure_ascii=False))


def _later(function, *args) -> None:
    """Webhooks go after the answer, as the real services send them."""
    threading.Thread(target=function, args=args, daemon=True).start()


def _deliver(url: str, body: bytes, headers: dict[str, str]) -> None:
    """POST a webhook, again with growing pauses while the service does not take it."""
    for attempt in range(WEBHOOK_TRIES):
        time.sleep(0.1 * 2**attempt)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                if 200 <= response.status < 300:
                    return
        except OSError:
            continue


def _whatsapp_webhook(settings: Settings, value: dict) -> None:
    payload = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "local-business-account",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": "local",
                                "phone_number_id": "local",
                            },
                            **value,
                        },
                    }
                ],
            }
        ],
    }
    body = json.dumps(payload).encode()
    signature = hmac.new(settings.whatsapp_app_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
    _deliver(settings.whatsapp_webhook, body, headers)


def _whatsapp_statuses(settings: Settings, message_id: str, to: str, statuses) -> None:
    for status, error in statuses:
        entry = {
            "id": message_id,
            "status": status,
            "timestamp": str(int(time.time())),
            "recipient_id": to,
        }
        if error:
            entry["errors"] = [error]
        _whatsapp_webhook(settings, {"statuses": [entry]})


def _whatsapp_reply(settings: Settings, body: dict) -> None:
    sender = body["from"].lstrip("+")
    message = {
        "from": sender,
        "id": "wamid." + secrets.token_hex(12),
        "timestamp": str(int(time.time())),
    }
    if "payload" in body:
        message.update(type="button", button={"payload": body["payload"], "text": body["payload"]})
    else:
        message.update(type="text", text={"body": body["text"]})
    _whatsapp_webhook(
        settings,
        {"contacts": [{"profile": {"name": "Local"}, "wa_id": sender}], "messages": [message]},
    )


def _twilio_statuses(settings: Settings, callback: str, sid: str, form: dict[str, str]) -> None:
    for status in ("sent", "delivered"):
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "MessageStatus": status,
            "SmsStatus": status,
            "To": form["To"],
            "From": form.get("From", ""),
            "AccountSid": settings.twilio_account_sid,
            "ApiVersion": "2010-04-01",
        }
        signature = twilio_signature(callback, params, settings.twilio_auth_token)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        }
        _deliver(callback, urllib.parse.urlencode(params).encode(), headers)
