"""Manager events cross a real Redis server to the owner's websocket, and only theirs."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels_redis.core import RedisChannelLayer

from generation.manager.publisher import ChannelLayerPublisher
from generation.manager.worker import ModelManager
from tests.factories import queue_job
from tests.generation.test_consumers import connect, receive_until_final

pytestmark = [pytest.mark.integration, pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def test_events_published_through_redis_reach_only_the_owner(
    settings: Any, redis_url: str, alice: Any, bob: Any, manager: ModelManager
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis_url]}}
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
