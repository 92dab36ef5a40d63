"""``/healthz``: 200 when the database answers, 503 when it does not; it also says whether the
rate-limit storage answers (when it does not, limits are counted in each process's memory) and
how long ago the worker last ran, so a monitor can alert on a dead worker while the load
balancer keeps sending traffic (the web pages work without it). ``/readyz``: whether this
process can serve requests now (its database answers), for a load balancer or an orchestrator.
"""

import sqlalchemy as sa
from flask import Blueprint, current_app

from ..core.timeutil import now_utc
from ..core.worker_health import last_run, late_by
from ..extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    if not _database_answers():
        return {"status": "database unavailable"}, 503
    now = now_utc()
    ran = last_run(db.session)
    return {
        "status": "ok",
        "rate_limit_storage": _limit_storage_state(),
        "worker_last_ran_seconds_ago": None if ran is None else int((now - ran).total_seconds()),
        "worker": "late" if late_by(ran, now) is not None else "ok",
    }


@bp.get("/readyz")
@limiter.exempt
def readyz():
    if not _database_answers():
        return {"ready": False}, 503
    return {"ready": True}


def _database_answers() -> bool:
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: the database did not answer")
        db.session.rollback()
        return False
    return True


def _limit_storage_state() -> str:
    try:
        return "ok" if limiter.storage.check() else "unreachable: counting in memory"
    except Exception:
        return "unreachable: counting in memory"
