"""Alembic environment, run through Flask-Migrate (``flask db ...``) inside the app."""

import logging
from logging.config import fileConfig

import sqlalchemy as sa
from alembic import context
from flask import current_app

from booking.core.crypto import EncryptedText
from booking.core.timeutil import UTCDateTime

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def render_item(type_, obj, autogen_context):
    """Write the project's column types as plain SQLAlchemy types, so migrations stay
    readable and do not depend on application code that may change later."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, EncryptedText):
        return "sa.Text()"
    return False


def _begin(connection) -> None:
    connection.exec_driver_sql("BEGIN")


def _transactional_ddl(connection, on: bool) -> None:
    """Python's sqlite3 opens a transaction only before INSERT, UPDATE and DELETE, so a
    CREATE or ALTER ran outside any and stayed when a later step failed. While migrating,
    the driver leaves transactions alone and each one starts with an explicit BEGIN
    (SQLAlchemy's recipe for pysqlite); then the connection is put back as the app uses it."""
    dbapi_connection = connection.connection.dbapi_connection
    if on:
        dbapi_connection.isolation_level = None
        sa.event.listen(connection, "begin", _begin)
    else:
        sa.event.remove(connection, "begin", _begin)
        dbapi_connection.isolation_level = ""


def run_migrations_online():
    def process_revision_directives(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    engine = target_db.engine
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch migrations rebuild a table by dropping it; with foreign keys on, that drop
            # would cascade and delete every intake, reminder and token of every booking.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the autobegun transaction so Alembic's own commits
            _transactional_ddl(connection, on=True)
        context.configure(
            connection=connection,
            target_metadata=target_db.metadata,
            render_as_batch=sqlite,
            compare_type=True,
            render_item=render_item,
            process_revision_directives=process_revision_directives,
            # Each migration in its own transaction: one that fails part way is rolled back
            # whole, and the database stays at the revision before it.
            transaction_per_migration=True,
        )
        try:
            with context.begin_transaction():
                context.run_migrations()
            # Whatever began after the last migration (reading the version) ends here: on
            # SQLite, turning foreign keys back on is silently ignored inside a transaction.
            connection.commit()
        except Exception:
            connection.rollback()
            revision = context.get_context().get_current_revision()
            logger.error(
                "A migration failed and was rolled back; the database is at revision %s, as "
                "before it.",
                revision,
            )
            raise
        finally:
            if sqlite:
                _transactional_ddl(connection, on=False)
        if sqlite:
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if problems:
                raise RuntimeError(f"foreign keys broken by the migration: {problems[:5]}")


if context.is_offline_mode():
    raise SystemExit("Offline migrations are not supported; run `flask db upgrade`.")
run_migrations_online()
