"""Closing a user's open websockets from sync code (a ban, an account deletion).

A banned user's socket would otherwise keep answering until they reload: the consumer only
checks the account on connect. So the ban service sends one message to the user's group and
every consumer of that user closes itself with ``CLOSE_FORBIDDEN``; a reconnect is then refused
because the account is inactive.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.cache import cache

from generation.adapters import publisher
from generation.events import user_group

logger = logging.getLogger(__name__)

# The channel-layer message type the consumer handles by closing (dots become underscores).
CLOSE_MESSAGE_TYPE = "sockets.close"
CLOSE_FORBIDDEN = 4403
SEND_TIMEOUT = 5.0


def close_user_sockets(user_id: int) -> None:
    """Ask every open websocket of ``user_id`` (any process, through the layer) to close.

    Never raises: the ban itself must stand even when the channel layer is down, and the
    consumer refuses an inactive user on the next connect anyway. Call it after the ban is
    committed (``transaction.on_commit``), so a reconnect sees the inactive account.
    """
    close_group_sockets(user_group(user_id), CLOSE_FORBIDDEN)


def close_group_sockets(group: str, code: int) -> None:
    """Ask every socket in ``group`` (any process, through the layer) to close with ``code``.
    Never raises: what asked for the close (a ban, a revoked token) stands either way."""
    layer = get_channel_layer()
    if layer is None:
        return
    message = {"type": CLOSE_MESSAGE_TYPE, "code": code}
    try:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        server_loop = publisher._server_loop
        in_memory = isinstance(layer, InMemoryChannelLayer)
        if in_memory and publisher._usable(server_loop) and server_loop is not None:
            # The in-memory layer is not thread-safe: hand the send to the server's own loop.
            if running is server_loop:
                server_loop.create_task(layer.group_send(group, message))
            else:
                asyncio.run_coroutine_threadsafe(layer.group_send(group, message), server_loop).result(SEND_TIMEOUT)
        elif running is not None:
            running.create_task(layer.group_send(group, message))
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:
        logger.exception("Could not close the websockets of %s", group)


# -- who is watching: previews go only to owners with a socket open ----------------------------
# In this process a count per owner (an in-process manager reads it directly); for workers in
# other processes a cache key with a short life, renewed by each open socket.
WATCH_TTL = 90
WATCH_RENEW = 30.0
WATCH_LOOKUP_KEPT = 2.0  # a worker asks the cache at most this often per owner
_watchers: dict[int, int] = {}
_looked_up: dict[int, tuple[float, bool]] = {}
_watch_lock = threading.Lock()


def watch_key(user_id: int) -> str:
    return f"wee-waa:watching:{user_id}"


def watch(user_id: int) -> None:
    with _watch_lock:
        _watchers[user_id] = _watchers.get(user_id, 0) + 1


def unwatch(user_id: int) -> None:
    with _watch_lock:
        left = _watchers.get(user_id, 0) - 1
        if left > 0:
            _watchers[user_id] = left
        else:
            _watchers.pop(user_id, None)


async def renew_watch(user_id: int) -> None:
    """Called by an open socket now and every ``WATCH_RENEW`` seconds; never raises."""
    try:
        await cache.aset(watch_key(user_id), 1, WATCH_TTL)
    except Exception:
        logger.warning("Could not mark user %s as watching", user_id, exc_info=True)


def is_watched(user_id: int) -> bool:
    """Has this owner a socket open here, or (recently) in any web process?"""
    with _watch_lock:
        if _watchers.get(user_id):
            return True
        kept = _looked_up.get(user_id)
    now = time.monotonic()
    if kept is not None and now - kept[0] < WATCH_LOOKUP_KEPT:
        return kept[1]
    try:
        seen = cache.get(watch_key(user_id)) is not None
    except Exception:  # noqa: BLE001 - without the cache, previews go out (the cheaper mistake)
        seen = True
    with _watch_lock:
        if len(_looked_up) > 10_000:
            _looked_up.clear()
        _looked_up[user_id] = (now, seen)
    return seen
