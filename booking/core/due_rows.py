"""Taking due rows for one worker: how several workers share rows that are due (emails to
send, reminders to write, cases to escalate, bookings past retention) without doing one twice.
(A held *time* is a different thing: a slot claim, see ``scheduling/holds.py``.)

One ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING id``. On PostgreSQL the inner select
takes ``FOR UPDATE SKIP LOCKED``, so concurrent workers split the due rows instead of waiting on
each other; SQLite runs one writer at a time. The UPDATE checks the due condition again, so a
row another worker changed meanwhile is left alone.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..extensions import Session


def take_due(session: Session, model, due, order_by, limit: int, values: dict) -> list[int]:
    """Set ``values`` on up to ``limit`` rows of ``model`` matching ``due``; return their ids.

    The caller's transaction holds the rows taken: commit it, or first write what taking them
    leads to (as the reminder job does) so both are kept or neither.
    """
    candidates = sa.select(model.id).where(due).order_by(*order_by).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # A materialised CTE runs once. As a plain ``IN (subquery)`` PostgreSQL may run the
        # locking subquery again for every row it updates, each time finding rows the last run
        # had not yet changed, and so claim far more than ``limit``.
        chosen = candidates.with_for_update(skip_locked=True).cte("chosen")
        chosen = chosen.prefix_with("MATERIALIZED")
        picked = sa.select(chosen.c.id).scalar_subquery()
    else:
        picked = candidates.scalar_subquery()
    statement = (
        sa.update(model)
        .where(model.id.in_(picked))
        .where(due)
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.scalars(statement))
