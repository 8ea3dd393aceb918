"""Publishing manager events to the owner's channel-layer group from any thread.

The in-memory channel layer is not thread-safe: a message put on its queues from another
event loop may sit unseen until the server loop wakes for some other reason. So the server's
loop is captured when the server starts (the ASGI lifespan, or daphne's reactor start: see
``generation.runtime``) and events are handed to that loop; without a server (Redis layer in a
``generation_worker``, tests) a private loop thread or ``async_to_sync`` sends them.

A lost event only delays a card (the database holds the truth), so a failed send never raises
into the caller; it is logged and counted (``wee_waa_generation_events_failed_total``).
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

from generation.events import CHANNEL_MESSAGE_TYPE, JobEvent, user_group
from generation.manager.types import OwnerId
from generation.metrics import EVENTS_FAILED

logger = logging.getLogger(__name__)

# One server loop per process, captured at startup (``bind_server_loop``).
_server_loop: asyncio.AbstractEventLoop | None = None
_own_loop: asyncio.AbstractEventLoop | None = None
_own_loop_lock = threading.Lock()
SEND_TIMEOUT = 5.0
# Sends handed to a loop without waiting; past this many unfinished ones the sender waits,
# so a stalled loop slows the worker down instead of growing memory without bound.
MAX_IN_FLIGHT = 256


def bind_server_loop(loop: asyncio.AbstractEventLoop | None) -> None:
    """The server's running loop, told once at startup (None again at shutdown)."""
    global _server_loop
    _server_loop = loop


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The loop events are handed to, if a server told us one."""
    return _server_loop


def remember_server_loop() -> None:
    """Fallback for a server that announced no startup: called from code running on its loop
    (the websocket consumer's connect). Until then nobody listens, so nothing is lost."""
    if not _usable(_server_loop):
        bind_server_loop(asyncio.get_running_loop())


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


def _failed(event: JobEvent, exc: BaseException) -> None:
    EVENTS_FAILED.labels(type=event["type"]).inc()
    logger.error("A websocket event (%s) could not be sent", event["type"], exc_info=exc)


class ChannelLayerPublisher:
    """One per process (``generation.runtime.Runtime``), shared by the manager and services."""

    def __init__(self, layer: BaseChannelLayer | None = None) -> None:
        self._layer = layer
        self._in_flight: deque[tuple[concurrent.futures.Future[None], JobEvent]] = deque()
        self._lock = threading.Lock()

    @property
    def layer(self) -> BaseChannelLayer:
        """The layer given, or the process's configured one, looked up on each send (a dict
        lookup): a publisher that kept the first one would talk to a stale layer after the
        settings change (tests) while consumers listen on the new one."""
        layer = self._layer or get_channel_layer()
        if layer is None:
            raise RuntimeError("No channel layer is configured")
        return layer

    def publish(self, owner_id: OwnerId, event: JobEvent) -> None:
        """Never raises: a failed send is logged and counted, and the job goes on."""
        try:
            self._send(user_group(owner_id), {"type": CHANNEL_MESSAGE_TYPE, "event": event}, event)
        except Exception as exc:  # noqa: BLE001 - logged with its traceback and counted in _failed
            _failed(event, exc)

    def _send(self, group: str, message: dict[str, Any], event: JobEvent) -> None:
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
            task = loop.create_task(self.layer.group_send(group, message))

            def report(done: asyncio.Task[None]) -> None:
                if not done.cancelled() and (exc := done.exception()) is not None:
                    _failed(event, exc)

            task.add_done_callback(report)
            return
        # Not waiting for each send keeps the drawing thread off the event loop's pace; tasks
        # start in submission order and group_send does not yield before queueing, so order holds.
        future = asyncio.run_coroutine_threadsafe(self.layer.group_send(group, message), loop)
        with self._lock:
            self._in_flight.append((future, event))
        self._settle()

    def _settle(self) -> None:
        while True:
            with self._lock:
                if not self._in_flight:
                    return
                future, event = self._in_flight[0]
                if not (future.done() or len(self._in_flight) > MAX_IN_FLIGHT):
                    return
                self._in_flight.popleft()
            self._wait(future, event, SEND_TIMEOUT)

    def flush(self, timeout: float = SEND_TIMEOUT) -> None:
        """Wait for the sends still in flight (tests, and before a runtime stops)."""
        while True:
            with self._lock:
                if not self._in_flight:
                    return
                future, event = self._in_flight.popleft()
            self._wait(future, event, timeout)

    @staticmethod
    def _wait(future: concurrent.futures.Future[None], event: JobEvent, timeout: float) -> None:
        try:
            future.result(timeout)
        except Exception as exc:  # noqa: BLE001 - logged with its traceback and counted in _failed
            future.cancel()
            _failed(event, exc)
