"""The suite refuses to touch a database that is not meant for tests."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from tests.databases import (
    NAMED_URL,
    NotATestDatabase,
    check_test_database,
    database_name,
    require_postgres,
    throwaway_database,
    with_database,
    worker_url,
)


@pytest.mark.parametrize("name", ["booking", "clinic", "test_booking", "testing", "postgres"])
def test_a_database_not_named_for_tests_is_refused(name):
    with pytest.raises(NotATestDatabase):
        check_test_database(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")


@pytest.mark.parametrize("name", ["test", "booking_test", "gw1_booking_test"])
def test_a_database_named_for_tests_is_accepted(name):
    check_test_database(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")


def test_each_parallel_worker_has_its_own_database_named_for_tests():
    first, second = worker_url("gw0"), worker_url("gw1")
    assert first != second != NAMED_URL
    for url in (first, second):
        check_test_database(url)


@pytest.mark.real_clock  # waits on a subprocess
def test_pytest_stops_before_touching_a_clinic_database(tmp_path):
    """A run pointed at a real database ends at once with the reason, and drops nothing."""
    env = dict(os.environ, TEST_DATABASE_URL=with_database(NAMED_URL, "clinic"))
    env.pop("PYTEST_XDIST_WORKER", None)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_mime.py"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == pytest.ExitCode.USAGE_ERROR
    assert "must end in 'test'" in run.stderr


@pytest.mark.postgres
def test_a_throwaway_database_is_unique_to_the_run_and_dropped_afterwards():
    require_postgres()
    server = sa.create_engine(with_database(NAMED_URL, "postgres"))
    exists = sa.text("SELECT count(*) FROM pg_database WHERE datname IN :names").bindparams(
        sa.bindparam("names", expanding=True)
    )
    try:
        with throwaway_database("probe") as url, throwaway_database("probe") as other:
            names = [database_name(url), database_name(other)]
            assert names[0] != names[1] and all(name.endswith("_test") for name in names)
            with server.connect() as connection:
                assert connection.scalar(exists, {"names": names}) == 2
        with server.connect() as connection:
            assert connection.scalar(exists, {"names": names}) == 0
    finally:
        server.dispose()
