"""The outbox's message writer: every email the service sends has the same shape (a text part,
an HTML part, sometimes a calendar file), so it is written directly as bytes instead of built
as an ``email`` object tree and flattened, which cost most of the time of each send.

Both bodies are quoted-printable UTF-8, so every line stays far under SMTP's 998-character
limit in any script; the subject is RFC 2047-encoded when it is not ASCII. A header value with
a line break, or an address that is not ASCII, is refused here (``ValueError``), so that
message fails alone before it reaches the server.
"""

from __future__ import annotations

import quopri
import secrets
from base64 import b64encode
from email.header import Header
from email.utils import formatdate

CRLF = b"\r\n"


def _header_value(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("a header value contains a line break")
    if value.isascii():
        return value
    return Header(value, "utf-8", maxlinelen=998).encode()


def _address(value: str) -> str:
    if not value.isascii():
        raise ValueError("an address with non-ASCII characters needs SMTPUTF8")
    return _header_value(value)


def _qp(text: str) -> bytes:
    # Quoted-printable over CRLF lines; "=" soft breaks keep every line under 77 characters.
    encoded = quopri.encodestring(text.replace("\r\n", "\n").encode("utf-8"))
    return encoded.replace(b"\n", CRLF)


def _part(content_type: str, body: bytes, encoding: str, extra: str = "") -> bytes:
    head = f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {encoding}\r\n{extra}"
    return head.encode("ascii") + CRLF + body + CRLF


def message_bytes(
    *,
    sender: str,
    recipient: str,
    reply_to: str,
    subject: str,
    message_id: str,
    text: str,
    html: str,
    ics: str | None = None,
) -> bytes:
    """The whole message, ready for ``sendmail``."""
    boundary = "=_" + secrets.token_hex(12)
    alternative = "=_a" + secrets.token_hex(12)
    headers = [
        ("From", _address(sender)),
        ("To", _address(recipient)),
        ("Reply-To", _address(reply_to)),
        ("Subject", _header_value(subject)),
        ("Date", formatdate(localtime=False, usegmt=True)),
        ("Message-ID", _header_value(message_id)),
        ("Auto-Submitted", "auto-generated"),
        ("MIME-Version", "1.0"),
    ]
    out = [f"{name}: {value}".encode("ascii") for name, value in headers]
    body = [
        f"--{alternative}".encode("ascii"),
        _part('text/plain; charset="utf-8"', _qp(text), "quoted-printable"),
        f"--{alternative}".encode("ascii"),
        _part('text/html; charset="utf-8"', _qp(html), "quoted-printable"),
        f"--{alternative}--".encode("ascii"),
    ]
    alternative_part = (
        f'Content-Type: multipart/alternative; boundary="{alternative}"\r\n\r\n'.encode("ascii")
        + CRLF.join(body)
    )
    if ics is None:
        out[-1:] = [
            out[-1],
            f'Content-Type: multipart/alternative; boundary="{alternative}"'.encode("ascii"),
        ]
        return CRLF.join(out) + CRLF + CRLF + CRLF.join(body) + CRLF
    method = "CANCEL" if "METHOD:CANCEL" in ics else "REQUEST"
    calendar = b64encode(ics.encode("utf-8"))
    calendar_lines = CRLF.join(calendar[i : i + 76] for i in range(0, len(calendar), 76))
    mixed = [
        f"--{boundary}".encode("ascii"),
        alternative_part,
        f"--{boundary}".encode("ascii"),
        _part(
            f'text/calendar; method={method}; charset="utf-8"',
            calendar_lines,
            "base64",
            'Content-Disposition: attachment; filename="consult.ics"\r\n',
        ),
        f"--{boundary}--".encode("ascii"),
    ]
    out.append(f'Content-Type: multipart/mixed; boundary="{boundary}"'.encode("ascii"))
    return CRLF.join(out) + CRLF + CRLF + CRLF.join(mixed) + CRLF
