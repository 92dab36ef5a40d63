"""``/healthz``: 200 when the database answers, 503 when it does not."""

import sqlalchemy as sa
from flask import Blueprint, current_app

from .extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: database did not answer")
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}
