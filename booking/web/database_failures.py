"""When the database fails under a form: nothing the person typed is lost.

A full disk gave a plain 500 with every answer gone, and a database restart under load gave
500s. Now a request whose database connection dropped before anything was committed runs
once more on a fresh connection (the pool's pre-ping finds most dead connections before they
are used; this catches one that dies during the request). If it fails again, or the database
refuses the write (full, read-only, gone), the answer is a 503 page that says what happened
and carries every field that was sent in a form that sends them again, so "Send again" in a
minute finishes what was started. The page holds what the form held, no more; like every
page here it is not cached.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, g, has_request_context, render_template, request

from ..extensions import db

log = logging.getLogger(__name__)

# Errors that say the database could not do it now, not that the request was wrong.
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.InternalError)


def _note_commit(session) -> None:
    """A request that has committed must not be run again: its first part is done."""
    if has_request_context():
        g.database_committed = True


def register(app: Flask) -> None:
    if not sa.event.contains(so.Session, "after_commit", _note_commit):
        sa.event.listen(so.Session, "after_commit", _note_commit)

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.InternalError)
    def database_unavailable(error):
        db.session.rollback()
        if _may_run_again(error):
            g.database_retried = True
            log.warning("database connection lost during %s; running it once more", request.path)
            try:
                view = current_app.view_functions[request.endpoint]
                return current_app.make_response(view(**(request.view_args or {})))
            except UNAVAILABLE as again:
                db.session.rollback()
                error = again
        log.warning("database unavailable for %s: %s", request.path, type(error.orig).__name__)
        return _kept_answers(), 503, {"Retry-After": "60"}


def _may_run_again(error) -> bool:
    return (
        getattr(error, "connection_invalidated", False)
        and not g.get("database_committed")
        and not g.get("database_retried")
        and request.endpoint in current_app.view_functions
    )


def _kept_answers():
    fields = [] if request.method != "POST" else list(request.form.items(multi=True))
    return render_template(
        "errors/database.html", fields=fields, action=request.full_path.rstrip("?")
    )
