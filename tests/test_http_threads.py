"""HTTP under the ASGI server runs Django's whole middleware chain in one call, on one of a
fixed set of threads: a thread (and its database connection) serves request after request."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from channels.testing import HttpCommunicator
from django.core.signals import request_started
from django.db import connection

from wee_waa.handler import ThreadPoolHandler

HOST = [(b"host", b"testserver")]

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_requests_are_served_on_a_fixed_set_of_threads_that_keep_their_connection() -> None:
    handler = ThreadPoolHandler(threads=2)
    seen: list[tuple[str, int]] = []

    def record(**kwargs: Any) -> None:
        connection.ensure_connection()
        seen.append((threading.current_thread().name, id(connection.connection)))

    request_started.connect(record)
    try:
        for _ in range(5):
            response = await HttpCommunicator(handler, "GET", "/api/v1/jobs/", headers=HOST).get_response()
            assert response["status"] == 403  # the whole chain ran: a JSON refusal, not a crash
    finally:
        request_started.disconnect(record)

    assert {name.split("_")[0] for name, _connection in seen} == {"http-0", "http-1"}
    assert len(set(seen)) == 2  # two threads, one connection each, kept across requests


async def test_a_page_still_renders_through_every_middleware() -> None:
    response = await HttpCommunicator(
        ThreadPoolHandler(threads=1), "GET", "/accounts/login/", headers=HOST
    ).get_response()

    headers = {name.decode().lower(): value.decode() for name, value in response["headers"]}
    assert response["status"] == 200
    assert "content-security-policy" in headers and headers["x-frame-options"] == "DENY"
