"""The generation suite passes on a real PostgreSQL server, not only on SQLite."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse

import pytest

pytestmark = pytest.mark.integration

SUITE = ["tests/generation", "tests/gallery", "tests/accounts", "tests/test_fuzz_endpoints.py"]


def test_the_generation_suite_passes_on_postgresql_in_a_database_of_its_own(postgres_url: str) -> None:
    import psycopg
    from psycopg import sql

    env = {**os.environ, "DATABASE_URL": postgres_url}
    command = [sys.executable, "-m", "pytest", *SUITE, "-q", "-p", "no:cacheprovider", "--create-db"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # wee_waa/settings.py names the test database after the process, so another run on this
    # server (a second checkout, a CI job next door) never meets this one.
    test_database = f"test_{urllib.parse.urlsplit(postgres_url).path.lstrip('/')}_{process.pid}"
    try:
        stdout, stderr = process.communicate(timeout=900)
    finally:
        process.kill()
        process.wait()
        # pytest-django drops it at the end, unless a thread of a failed test still holds a
        # connection or the run was killed: then it is dropped here.
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(test_database)))

    assert process.returncode == 0, stdout[-4000:] + stderr[-2000:]
    assert " passed" in stdout.splitlines()[-1]
