"""Logs an operator can search, and nothing in them a patient typed.

Every request gets an id (or keeps a well-formed one the proxy sent): it is returned in the
``X-Request-ID`` header and shown on the 500 page, so a patient on the phone can quote it and
the operator finds the lines of that request. With ``LOG_FORMAT=json`` each line is one JSON
object (time, level, logger, message, request id) and each request adds one line with its
method, path (links' tokens hidden, never the query), status and duration. Request logs of
the web servers pass through ``HidePrivateUrlParts`` in either format.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

log = logging.getLogger("booking.requests")

_WELL_FORMED = re.compile(r"^[A-Za-z0-9-]{8,64}$")
FIELDS = ("request_id", "method", "path", "status", "duration_ms")


class HidePrivateUrlParts(logging.Filter):
    """Request logs (the development server's, gunicorn's access log) would otherwise keep
    every manage link, and with it the power to cancel that booking (and the waitlist's
    links, which hold a time or delete an entry), and every staff search and filter: a
    caller's name or phone, a cancer type."""

    manage = re.compile(r"/(manage|waitlist/offer|waitlist/entry)/[A-Za-z0-9_-]+")
    staff_query = re.compile(r"(/staff/[^\s?\"]*)\?[^\s\"]*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/manage/" in message or "/staff/" in message or "/waitlist/" in message:
            message = self.manage.sub(r"/\1/[token]", message)
            message = self.staff_query.sub(r"\1?[query hidden]", message)
            record.msg, record.args = message, ()
        return True


def private_parts_hidden(path: str) -> str:
    return HidePrivateUrlParts.manage.sub(r"/\1/[token]", path)


class WithRequestId(logging.Filter):
    """Puts the current request's id on every line written while it is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id") and has_request_context():
            record.request_id = g.get("request_id")
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: what log search tools read without parsing rules."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_json_lines() -> None:
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonLines())


def register(app: Flask) -> None:
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, WithRequestId) for f in handler.filters):
            handler.addFilter(WithRequestId())
    if app.config["LOG_FORMAT"] == "json":
        use_json_lines()

    @app.before_request
    def start():
        sent = request.headers.get("X-Request-ID", "")
        g.request_id = sent if _WELL_FORMED.match(sent) else secrets.token_hex(8)
        g.request_started = time.perf_counter()

    @app.after_request
    def finish(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        if app.config["LOG_FORMAT"] == "json" and "request_started" in g:
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": private_parts_hidden(request.path),
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1),
                },
            )
        return response
