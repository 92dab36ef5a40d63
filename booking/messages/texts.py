"""Sending short texts: WhatsApp through the Business Cloud API, SMS through Twilio.

Both are plain HTTPS requests in each provider's own wire format (the local stand-in,
``local_provider.py``, speaks the same); both sign their webhooks, and both signatures are
checked here. A provider's answer is sorted into what the outbox needs to know: accepted
(with the provider's id), worth trying again later (429, 5xx, no answer), or refused for
this number (not on WhatsApp, an invalid number), which moves the reader on to the next
channel instead of retrying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from flask import current_app

from .channels import BUTTONS

# WhatsApp's error codes for a number that cannot get WhatsApp messages (not on WhatsApp, or
# not a valid WhatsApp account), and Twilio's for a number that cannot get SMS.
NOT_ON_WHATSAPP = {131026, 131030, 133010}
NOT_A_MOBILE = {21211, 21214, 21612, 21614, 21610}


class TextFailed(Exception):
    """The provider did not take the message. ``for_this_number`` means it never will."""

    def __init__(self, message: str, for_this_number: bool = False):
        super().__init__(message)
        self.for_this_number = for_this_number


@dataclass(frozen=True)
class WhatsAppTemplate:
    name: str
    language: str
    variables: list[str]
    buttons: bool = False


def _post(url: str, body: bytes, headers: dict[str, str]) -> dict:
    """POST and read the JSON answer; an HTTP error becomes its status and JSON body."""
    timeout = current_app.config["PROVIDER_TIMEOUT"].total_seconds()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        try:
            answer = json.loads(error.read() or b"{}")
        except ValueError:
            answer = {}
        raise _ProviderAnswer(error.code, answer) from None
    except (OSError, ValueError) as error:
        raise TextFailed(f"no answer from the provider: {type(error).__name__}") from None


class _ProviderAnswer(Exception):
    def __init__(self, status: int, answer: dict):
        super().__init__(status)
        self.status, self.answer = status, answer


def send_whatsapp(to: str, template: WhatsAppTemplate, reference: str) -> str:
    """Send a template message to ``to`` (E.164); return WhatsApp's message id. A reminder's
    two quick-reply buttons carry the booking's reference, which the reply brings back."""
    components: list[dict] = [
        {"type": "body", "parameters": [{"type": "text", "text": v} for v in template.variables]}
    ]
    if template.buttons:
        components += [
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(index),
                "parameters": [{"type": "payload", "payload": f"{payload}:{reference}"}],
            }
            for index, payload in enumerate(BUTTONS)
        ]
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        "type": "template",
        "template": {
            "name": template.name,
            "language": {"code": template.language},
            "components": components,
        },
    }
    return _whatsapp(body)


def send_whatsapp_text(to: str, text: str) -> str:
    """A free-form message: only inside the 24 hours after the reader wrote to us."""
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        "type": "text",
        "text": {"preview_url": False, "body": text},
    }
    return _whatsapp(body)


def _whatsapp(body: dict) -> str:
    config = current_app.config
    url = f"{config['WHATSAPP_API_URL'].rstrip('/')}/{config['WHATSAPP_PHONE_NUMBER_ID']}/messages"
    headers = {
        "Authorization": f"Bearer {config['WHATSAPP_TOKEN']}",
        "Content-Type": "application/json",
    }
    try:
        answer = _post(url, json.dumps(body).encode(), headers)
    except _ProviderAnswer as failure:
        error = failure.answer.get("error", {})
        code = error.get("code")
        raise TextFailed(
            f"WhatsApp {failure.status}: {code} {error.get('message', '')}".strip(),
            for_this_number=code in NOT_ON_WHATSAPP,
        ) from None
    try:
        return str(answer["messages"][0]["id"])
    except (KeyError, IndexError, TypeError):
        raise TextFailed("WhatsApp answered without a message id") from None


def send_sms(to: str, text: str) -> str:
    """Send one SMS through Twilio; return its Message SID. Its status comes back signed."""
    config = current_app.config
    sid = config["TWILIO_ACCOUNT_SID"]
    url = f"{config['TWILIO_API_URL'].rstrip('/')}/2010-04-01/Accounts/{sid}/Messages.json"
    form = {
        "To": to,
        "From": config["TWILIO_FROM"],
        "Body": text,
        "StatusCallback": f"{config['BASE_URL']}/webhooks/sms/status",
    }
    credentials = base64.b64encode(f"{sid}:{config['TWILIO_AUTH_TOKEN']}".encode()).decode()
    headers = {
        "Authorization": f"Basic {credentials}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    try:
        answer = _post(url, urllib.parse.urlencode(form).encode(), headers)
    except _ProviderAnswer as failure:
        code = failure.answer.get("code")
        raise TextFailed(
            f"Twilio {failure.status}: {code} {failure.answer.get('message', '')}".strip(),
            for_this_number=code in NOT_A_MOBILE,
        ) from None
    if not answer.get("sid"):
        raise TextFailed("Twilio answered without a message SID")
    return str(answer["sid"])


def whatsapp_signature_ok(raw_body: bytes, header: str | None) -> bool:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed by the app
    secret>``, compared in constant time."""
    secret = current_app.config.get("WHATSAPP_APP_SECRET")
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256="))


def twilio_signature(url: str, params: dict[str, str], token: str) -> str:
    """Twilio's signature: base64 HMAC-SHA1 of the URL followed by each POST parameter's name
    and value, sorted by name, keyed by the auth token."""
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def twilio_signature_ok(url: str, params: dict[str, str], header: str | None) -> bool:
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not token or not header:
        return False
    return hmac.compare_digest(twilio_signature(url, params, token), header)
