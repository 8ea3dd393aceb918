"""Closing a user's open websockets from sync code (a ban, an account deletion).

A banned user's socket would otherwise keep answering until they reload: the consumer only
checks the account on connect. So the ban service sends one message to the user's group and
every consumer of that user closes itself with ``CLOSE_FORBIDDEN``; a reconnect is then refused
because the account is inactive.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

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
