"""On PostgreSQL, ``WEE_WAA_DB_POOL=true`` hands connections out of psycopg's pool instead of
opening one per thread; without it, each thread keeps its connection for
``WEE_WAA_DB_CONN_MAX_AGE`` seconds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import django
django.setup()
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT 1")
    one = cursor.fetchone()[0]
pool = connection.pool
print(one, type(pool).__name__ if pool is not None else None, pool.min_size if pool is not None else "-",
      connection.settings_dict["CONN_MAX_AGE"])
"""


def probe(database_url: str, **env: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "wee_waa.settings", "DATABASE_URL": database_url, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def test_the_pool_serves_queries_when_asked(fresh_postgres_database: str) -> None:
    assert probe(fresh_postgres_database, WEE_WAA_DB_POOL="true", WEE_WAA_DB_POOL_MIN="3") == [
        "1", "ConnectionPool", "3", "0",
    ]  # fmt: skip


def test_without_the_pool_connections_are_kept_for_a_while(fresh_postgres_database: str) -> None:
    assert probe(fresh_postgres_database, WEE_WAA_DB_CONN_MAX_AGE="60") == ["1", "None", "-", "60"]
