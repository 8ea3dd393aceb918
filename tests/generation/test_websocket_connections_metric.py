"""``wee_waa_generation_websocket_connections``: the dashboard's open-sockets panel counts the
sockets that joined a user's group, and a closed socket leaves the count."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from wee_waa.routing import websocket_application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def open_sockets() -> float:
    """The gauge as Prometheus reads it from /metrics."""
    text = Client().get("/metrics").content.decode()
    for line in text.splitlines():
        if line.startswith("wee_waa_generation_websocket_connections "):
            return float(line.split()[-1])
    raise AssertionError("wee_waa_generation_websocket_connections is not exported")


async def communicator_for(user: Any | None) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://localhost"), (b"host", b"localhost")]
    if user is not None:
        client = Client()
        await sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return WebsocketCommunicator(websocket_application(), "/ws/generation/", headers=headers)


async def test_the_gauge_goes_up_for_each_open_socket_and_down_when_it_closes(alice: Any, bob: Any) -> None:
    before = await sync_to_async(open_sockets)()
    alice_ws, bob_ws = await communicator_for(alice), await communicator_for(bob)
    assert (await alice_ws.connect())[0] and (await bob_ws.connect())[0]

    both_open = await sync_to_async(open_sockets)()
    await alice_ws.disconnect()
    one_open = await sync_to_async(open_sockets)()
    await bob_ws.disconnect()
    none_open = await sync_to_async(open_sockets)()

    assert (both_open, one_open, none_open) == (before + 2, before + 1, before)


async def test_a_refused_socket_is_never_counted(transactional_db: None) -> None:
    before = await sync_to_async(open_sockets)()
    anonymous = await communicator_for(None)

    connected, _ = await anonymous.connect()
    await anonymous.disconnect()

    assert connected is False
    assert await sync_to_async(open_sockets)() == before
