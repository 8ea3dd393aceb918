"""Publishing manager events to the owner's channel-layer group from the worker thread.

The in-memory channel layer is not thread-safe: a message put on its queues from another
event loop may sit unseen until the server loop wakes for some other reason. So when the
server's loop is known (the websocket consumer records it on connect) events are handed to
that loop; otherwise (Redis layer in a worker process, tests) ``async_to_sync`` sends them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections import deque
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, InMemoryChannelLayer, get_channel_layer

from generation.events import CHANNEL_MESSAGE_TYPE, user_group

logger = logging.getLogger(__name__)

_server_loop: asyncio.AbstractEventLoop | None = None
_own_loop: asyncio.AbstractEventLoop | None = None
_own_loop_lock = threading.Lock()
SEND_TIMEOUT = 5.0
# Sends handed to a loop without waiting; past this many unfinished ones the sender waits,
# so a stalled loop slows the worker down instead of growing memory without bound.
MAX_IN_FLIGHT = 256


def remember_server_loop() -> None:
    """Called from async code running on the server's loop."""
    global _server_loop
    _server_loop = asyncio.get_running_loop()


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """A private event loop thread for processes without a server loop (``generation_worker``):
    ``async_to_sync`` would build a new loop, and so a new Redis connection, per event."""
    global _own_loop
    with _own_loop_lock:
        if _own_loop is None or _own_loop.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="wee-waa-publisher", daemon=True).start()
            _own_loop = loop
        return _own_loop


def _usable(loop: asyncio.AbstractEventLoop | None) -> bool:
    return loop is not None and loop.is_running() and not loop.is_closed()


class ChannelLayerPublisher:
    def __init__(self, layer: BaseChannelLayer | None = None) -> None:
        self._layer = layer
        self._in_flight: deque[concurrent.futures.Future[None]] = deque()

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
        loop = _server_loop if _usable(_server_loop) else None
        if loop is None and not isinstance(self.layer, InMemoryChannelLayer):
            loop = _publisher_loop()
        if loop is None:  # in-memory layer and no server (tests, management commands)
            async_to_sync(self.layer.group_send)(group, message)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:  # already on that loop: never block it
            loop.create_task(self.layer.group_send(group, message))
            return
        # Not waiting for each send keeps the drawing thread off the event loop's pace; tasks
        # start in submission order and group_send does not yield before queueing, so order holds.
        self._in_flight.append(asyncio.run_coroutine_threadsafe(self.layer.group_send(group, message), loop))
        self._settle()

    def _settle(self) -> None:
        while self._in_flight and (self._in_flight[0].done() or len(self._in_flight) > MAX_IN_FLIGHT):
            future = self._in_flight.popleft()
            try:
                future.result(SEND_TIMEOUT)
            except Exception:
                logger.exception("A websocket event could not be sent")

    def flush(self, timeout: float = SEND_TIMEOUT) -> None:
        """Wait for the sends still in flight (tests, and before a worker exits)."""
        while self._in_flight:
            try:
                self._in_flight.popleft().result(timeout)
            except Exception:
                logger.exception("A websocket event could not be sent")


class RecordingPublisher:
    """Keeps every event in order; for tests and benchmarks that watch the manager directly."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, dict[str, Any]]] = []

    def publish(self, owner_id: Any, event: dict[str, Any]) -> None:
        self.events.append((owner_id, event))
