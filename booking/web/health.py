"""``/healthz``: 200 when the database answers, 503 when it does not; it also says whether the
rate-limit storage answers (when it does not, limits are counted in each process's memory)."""

import sqlalchemy as sa
from flask import Blueprint, current_app

from ..extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: database did not answer")
        return {"status": "database unavailable"}, 503
    return {"status": "ok", "rate_limit_storage": _limit_storage_state()}


def _limit_storage_state() -> str:
    try:
        return "ok" if limiter.storage.check() else "unreachable: counting in memory"
    except Exception:
        return "unreachable: counting in memory"
