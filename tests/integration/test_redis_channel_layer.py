"""Manager events cross a real Redis server to the owner's websocket, and only theirs; the
layer's connections survive idle reads and a full pool."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from generation.adapters.publisher import ChannelLayerPublisher
from generation.manager.worker import ModelManager
from tests.factories import queue_job
from tests.generation.test_consumers import connect, receive_until_final
from wee_waa.channel_layer import RedisChannelLayer

pytestmark = [pytest.mark.integration, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_events_published_through_redis_reach_only_the_owner(
    settings: Any, redis_url: str, alice: Any, bob: Any, manager: ModelManager
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "wee_waa.channel_layer.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}
    }
    # The worker's publisher has its own connection, as a separate worker process would.
    manager.publisher = ChannelLayerPublisher(RedisChannelLayer(hosts=[redis_url]))
    alice_ws, alice_ok = await connect(alice)
    bob_ws, bob_ok = await connect(bob)
    assert alice_ok and bob_ok

    job = await sync_to_async(queue_job)(alice, steps=2)
    await sync_to_async(manager.run_until_idle, thread_sensitive=False)()
    events = await receive_until_final(alice_ws, job.id)

    assert [event["type"] for event in events][-4:] == ["job.snapshot", "job.progress", "job.progress", "job.finished"]
    assert events[-1]["status"] == "succeeded"
    assert await bob_ws.receive_nothing(timeout=0.3)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


async def test_our_layers_reads_outlast_its_blocking_read_so_idle_receives_never_time_out(redis_url: str) -> None:
    layer = RedisChannelLayer(hosts=[redis_url])
    channel = await layer.new_channel()
    try:
        # Three blocking reads of 5 s in a row with nothing to read: the stock settings of
        # redis-py 8 raised TimeoutError in the first one.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(layer.receive(channel), layer.brpop_timeout * 3)
        await layer.send(channel, {"type": "still.here"})
        assert (await asyncio.wait_for(layer.receive(channel), 5))["type"] == "still.here"
    finally:
        await layer.flush()


async def test_a_full_pool_makes_callers_wait_instead_of_failing(redis_url: str) -> None:
    layer = RedisChannelLayer(hosts=[redis_url], max_connections=2, pool_timeout=10)
    channels = [await layer.new_channel() for _ in range(60)]
    try:
        await asyncio.gather(*(layer.group_add("crowd", channel) for channel in channels))
        await layer.group_send("crowd", {"type": "hello"})
        received = await asyncio.gather(*(asyncio.wait_for(layer.receive(c), 10) for c in channels))
    finally:
        await layer.flush()

    assert [message["type"] for message in received] == ["hello"] * 60
