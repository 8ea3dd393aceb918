"""Integration tests need the real servers. Outside CI they skip when a server is down;
under CI=true a skip fails the run (see tests/conftest.py), because CI starts them."""

from __future__ import annotations

import os
import socket

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
