"""Integration tests need the real servers. Outside CI they skip when a server is down;
under CI=true a skip fails the run (see tests/conftest.py), because CI starts them."""

from __future__ import annotations

import os
import secrets
import socket
import urllib.parse
from collections.abc import Iterator

import pytest

REDIS_URL = os.environ.get("WEE_WAA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
POSTGRES_URL = os.environ.get("WEE_WAA_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_url() -> str:
    if not reachable("127.0.0.1", 6379):
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    return REDIS_URL


@pytest.fixture
def postgres_url() -> str:
    if not reachable("127.0.0.1", 5432):
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    return POSTGRES_URL


@pytest.fixture
def fresh_postgres_database(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty database on the PostgreSQL server, for tests whose processes
    share one database (pytest-django's own test database belongs to this process).
    Dropped afterwards even if a process still holds a connection."""
    import psycopg
    from psycopg import sql

    name = f"wee_waa_scale_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urllib.parse.urlsplit(postgres_url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# Redis databases a test may empty; database 0 holds the claims, so two test runs on one
# machine (or two tests at once) never empty each other's database mid-test.
SCRATCH_REDIS_DATABASES = range(1, 16)
CLAIM_SECONDS = 3600


@pytest.fixture
def scratch_redis_url(redis_url: str) -> Iterator[str]:
    """A Redis database of this test's own, emptied before and after: processes started by a
    test share it (the channel layer and the cache), and nothing from an earlier run leaks in.
    It is claimed with ``SET NX`` in database 0: a fixed database, emptied by a run on the same
    machine while another run's socket sat idle, once lost that socket its group."""
    import redis

    claims = redis.Redis.from_url(urllib.parse.urlsplit(redis_url)._replace(path="/0").geturl())
    claim = f"wee-waa-tests:{os.getpid()}:{secrets.token_hex(4)}"
    number = next(
        (n for n in SCRATCH_REDIS_DATABASES if claims.set(f"wee-waa-tests:db:{n}", claim, nx=True, ex=CLAIM_SECONDS)),
        None,
    )
    assert number is not None, "every scratch Redis database is claimed by another test run"
    url = urllib.parse.urlsplit(redis_url)._replace(path=f"/{number}").geturl()
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()
        if claims.get(f"wee-waa-tests:db:{number}") == claim.encode():
            claims.delete(f"wee-waa-tests:db:{number}")
        claims.close()
