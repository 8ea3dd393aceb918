"""Publishing manager events to the owner's channel-layer group from the worker thread.

The in-memory channel layer is not thread-safe: a message put on its queues from another
event loop may sit unseen until the server loop wakes for some other reason. So when the
server's loop is known (the websocket consumer records it on connect) events are handed to
that loop; otherwise (Redis layer in a worker process, tests) ``async_to_sync`` sends them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer

from generation.events import CHANNEL_MESSAGE_TYPE, user_group

_server_loop: asyncio.AbstractEventLoop | None = None
SEND_TIMEOUT = 5.0


def remember_server_loop() -> None:
    """Called from async code running on the server's loop."""
    global _server_loop
    _server_loop = asyncio.get_running_loop()


class ChannelLayerPublisher:
    def __init__(self, layer: BaseChannelLayer | None = None) -> None:
        self._layer = layer

    @property
    def layer(self) -> BaseChannelLayer:
        if self._layer is None:
            layer = get_channel_layer()
            if layer is None:
                raise RuntimeError("No channel layer is configured")
            self._layer = layer
        return self._layer

    def publish(self, owner_id: Any, event: dict[str, Any]) -> None:
        message = {"type": CHANNEL_MESSAGE_TYPE, "event": event}
        group = user_group(owner_id)
        loop = _server_loop
        if loop is not None and loop.is_running() and not loop.is_closed():
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:  # already on the server loop: never block it
                loop.create_task(self.layer.group_send(group, message))
                return
            asyncio.run_coroutine_threadsafe(self.layer.group_send(group, message), loop).result(SEND_TIMEOUT)
            return
        async_to_sync(self.layer.group_send)(group, message)


class RecordingPublisher:
    """Keeps every event in order; for tests and benchmarks that watch the manager directly."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, dict[str, Any]]] = []

    def publish(self, owner_id: Any, event: dict[str, Any]) -> None:
        self.events.append((owner_id, event))
