"""Backups a clinic can restore after losing a disk: a consistent copy of the database with a
manifest, and a restore into an empty database that checks it got everything back.

SQLite is copied with its online backup API (a consistent copy while bookings are being
made); PostgreSQL with ``pg_dump`` in its custom format (one transaction's snapshot). The
manifest records the schema revision, how many rows each table had, and a fingerprint of each
encryption key: never the keys. Health answers and messages are encrypted with
``ENCRYPTION_KEYS``, so a backup without those keys cannot be read; the restore refuses to
start when none of the keys it was made with is configured, rather than bring back data
nobody can open.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
POSTGRES_FILE = "database.dump"


class BackupError(Exception):
    """What went wrong, in words for the person running the command."""


def key_fingerprints(keys: str) -> list[str]:
    """A short hash of each configured key: enough to tell which keys a backup needs."""
    return [hashlib.sha256(key.strip().encode()).hexdigest()[:16] for key in keys.split(",") if key]


def row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return _revision_and_rows(connection)[1]


def _revision_and_rows(bind: sa.Engine | sa.Connection) -> tuple[str, dict[str, int]]:
    """The schema revision and each table's row count, read through ``bind``."""
    if isinstance(bind, sa.Engine):
        with bind.connect() as connection:
            return _revision_and_rows(connection)
    names = sa.inspect(bind).get_table_names()
    rows = {n: bind.scalar(sa.text(f'SELECT count(*) FROM "{n}"')) or 0 for n in sorted(names)}
    return bind.scalar(sa.text("SELECT version_num FROM alembic_version")), rows


def backup(engine: sa.Engine, folder: Path, keys: str, now: datetime) -> dict:
    """Write a copy of the database and its manifest into ``folder`` (new or empty), readable
    by its owner only. Returns the manifest."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: choose a new folder for each backup.")
    url = engine.url
    if url.get_backend_name() == "sqlite":
        target = folder / SQLITE_FILE
        _sqlite_copy(_sqlite_file(url), target)
        # Counted in the copy: bookings made meanwhile are not in it, nor in the manifest.
        copy = sa.create_engine(f"sqlite:///{target}")
        try:
            revision, rows = _revision_and_rows(copy)
        finally:
            copy.dispose()
        kind = "sqlite"
    elif url.get_backend_name() == "postgresql":
        target = folder / POSTGRES_FILE
        # pg_dump reads the snapshot this transaction exports, so the dump and the counts in
        # the manifest are the same moment, however many bookings are made meanwhile.
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as moment:
            snapshot = moment.scalar(sa.text("SELECT pg_export_snapshot()"))
            revision, rows = _revision_and_rows(moment)
            dump = ["pg_dump", "--format=custom", "--no-owner", f"--snapshot={snapshot}"]
            _run([*dump, "--file", str(target)], url)
        kind = "postgresql"
    else:
        raise BackupError(f"Backups of {url.get_backend_name()} are not supported.")
    target.chmod(0o600)
    manifest = {
        "made_at": now.isoformat(),
        "database": kind,
        "file": target.name,
        "revision": revision,
        "rows": rows,
        "key_fingerprints": key_fingerprints(keys),
    }
    manifest_path = folder / MANIFEST
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    manifest_path.chmod(0o600)
    return manifest


def restore(engine: sa.Engine, folder: Path, keys: str) -> dict:
    """Bring a backup back into an empty database, then check every table has the rows it
    had. Returns the manifest."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise BackupError(f"{folder} has no readable {MANIFEST}: is it a backup?") from error
    if not set(manifest["key_fingerprints"]) & set(key_fingerprints(keys)):
        raise BackupError(
            "None of the encryption keys this backup was made with is in ENCRYPTION_KEYS: "
            "its health answers and messages could not be read. Restore the keys first."
        )
    if sa.inspect(engine).get_table_names():
        raise BackupError("The database is not empty: restore only into an empty database.")
    url = engine.url
    source = folder / manifest["file"]
    if manifest["database"] != url.get_backend_name():
        raise BackupError(
            f"This is a {manifest['database']} backup; the database is {url.get_backend_name()}."
        )
    engine.dispose()
    if manifest["database"] == "sqlite":
        _sqlite_copy(source, _sqlite_file(url))
    else:
        _run(["pg_restore", "--no-owner", "--exit-on-error", str(source)], url, into=True)
    found = row_counts(engine)
    missing = {t: n for t, n in manifest["rows"].items() if found.get(t) != n}
    if missing:
        raise BackupError(f"The restore is incomplete; these tables differ: {missing}")
    return manifest


def _sqlite_file(url: sa.URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("This SQLite database is in memory: there is no file to back up.")
    return url.database


def _sqlite_copy(source: Path | str, target: Path | str) -> None:
    """SQLite's online backup: a consistent copy even while others write."""
    with closing(sqlite3.connect(source)) as reading, closing(sqlite3.connect(target)) as writing:
        reading.backup(writing)


def _run(command: list[str], url: sa.URL, into: bool = False) -> None:
    """Run pg_dump or pg_restore against ``url``; its password goes in the environment, not
    on the command line, where other users could read it."""
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (Debian: postgresql-client).")
    plain = url.set(drivername="postgresql", password=None)
    target = plain.render_as_string(hide_password=False)
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    argv = [*command[:1], "--dbname", target, *command[1:]] if into else [*command, target]
    done = subprocess.run(argv, env=environment, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[:500]}")
