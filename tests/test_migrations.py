"""The migrations build the whole schema on an empty database and match the models exactly."""

import pytest
import sqlalchemy as sa

from booking.extensions import db
from booking.models import PreVisitQuestion
from tests.conftest import PG_URL, make_app, postgres_reachable


def upgrade_and_check(url: str):
    app = make_app(url)
    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0, checked.output
    with app.app_context():
        questions = db.session.scalars(sa.select(PreVisitQuestion)).all()
        general = [q for q in questions if not q.cancer_type and not q.treatment]
        assert any("specific type of cytokine therapy" in q.text for q in general)
        assert {q.cancer_type for q in questions} >= {"melanoma", "renal_cell", None}
        db.session.remove()
        db.engine.dispose()


def test_sqlite_upgrade_then_check(tmp_path):
    upgrade_and_check(f"sqlite:///{tmp_path / 'empty.sqlite3'}")


@pytest.mark.postgres
def test_postgresql_upgrade_then_check():
    if not postgres_reachable():
        pytest.fail(f"PostgreSQL not reachable at {PG_URL}")
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text("DROP DATABASE IF EXISTS booking_migration_check WITH (FORCE)"))
        connection.execute(sa.text("CREATE DATABASE booking_migration_check"))
    url = PG_URL.rsplit("/", 1)[0] + "/booking_migration_check"
    try:
        upgrade_and_check(url)
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text("DROP DATABASE IF EXISTS booking_migration_check WITH (FORCE)")
            )
        admin.dispose()
