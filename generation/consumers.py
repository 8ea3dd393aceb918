"""The per-user progress stream (/ws/generation/).

Clients only ever send ``{"type": "jobs.sync"}``; anything else is a mistake or an attack, and
neither may close the socket with a server error (1011) nor cost the server more than a few
database reads a second. So frames are size-checked and parsed in one guarded step, bad ones
get a small ``error`` event (``generation.events.error_event``), and a token bucket per
connection closes a flood with a policy code.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Literal

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils.translation import gettext

from accounts import ws_auth
from generation.adapters.publisher import remember_server_loop
from generation.events import ErrorCode, error_event, user_group
from generation.metrics import WEBSOCKET_CONNECTIONS
from generation.selectors import unfinished_job_snapshots
from generation.sockets import CLOSE_FORBIDDEN, WATCH_RENEW, renew_watch, unwatch, watch

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_POLICY = 4008  # flooding (private use mirror of 1008 "policy violation")
CLOSE_TOO_BIG = 1009
MAX_FRAME_BYTES = 4096
# Token bucket per connection: a burst of BURST messages, then RATE a second. A client that
# keeps sending past a whole second bucket of debt is flooding and is closed.
BURST = 5.0
RATE = 2.0


class TokenBucket:
    """Allows ``burst`` at once and ``rate`` per second after; owes at most ``burst`` more."""

    def __init__(self, burst: float = BURST, rate: float = RATE, clock: Any = time.monotonic) -> None:
        self.burst = burst
        self.rate = rate
        self.clock = clock
        self.tokens = burst
        self.updated = clock()

    def take(self) -> Literal["ok", "refused", "flood"]:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        if self.tokens >= 0:
            return "ok"
        if self.tokens >= -self.burst:
            return "refused"
        return "flood"


class GenerationConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Authenticate, join the user's own group, send the open jobs' state, relay events."""

    group: str | None = None
    # --- authentication (accounts.ws_auth): a session, a bearer token, or a first auth message ---
    token_group: str | None = None
    auth_deadline: asyncio.Task[None] | None = None
    watching: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        identity = await ws_auth.socket_identity(self.scope)
        if identity.awaits_message:  # a program without a session: {"type": "auth"} comes next
            await self.accept()
            self.auth_deadline = asyncio.create_task(ws_auth.close_unless_authenticated(self))
            return
        await self._open(identity)

    async def _authenticate(self, text_data: str | None) -> None:
        """The first message of a socket that awaits one: a valid auth message, or the end."""
        if self.auth_deadline is None:  # answered already: the socket is closing
            return
        self.auth_deadline.cancel()
        self.auth_deadline = None
        token = await ws_auth.token_from_message(text_data)
        if token is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self._open(ws_auth.SocketIdentity(token.user, token), accepted=True)

    # --- end of authentication ---

    async def _open(self, identity: ws_auth.SocketIdentity, *, accepted: bool = False) -> None:
        user = identity.user
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not user.is_active:  # banned (an authentication backend may still hand them over)
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.scope["user"] = user  # for a token socket, the token's owner
        remember_server_loop()  # a no-op when the server announced its start (``wee_waa.asgi``)
        self.bucket = TokenBucket()
        self.warned = False
        self.group = user_group(user.pk)
        WEBSOCKET_CONNECTIONS.inc()  # paired with the dec() in disconnect, which checks self.group
        await self.channel_layer.group_add(self.group, self.channel_name)
        watch(user.pk)  # previews are drawn only for owners someone is watching
        self.watching = asyncio.create_task(self._keep_watching(user.pk))
        if identity.token is not None:  # revoking the token closes this socket
            self.token_group = ws_auth.token_group(identity.token.pk)
            await self.channel_layer.group_add(self.token_group, self.channel_name)
        if not accepted:
            await self.accept()
        await self._send_snapshots()

    async def disconnect(self, code: int) -> None:
        if self.auth_deadline is not None:
            self.auth_deadline.cancel()
        if self.token_group is not None:
            await self.channel_layer.group_discard(self.token_group, self.channel_name)
        if self.watching is not None:
            self.watching.cancel()
            unwatch(self.scope["user"].pk)
        if self.group is not None:
            WEBSOCKET_CONNECTIONS.dec()
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        if self.group is None:  # accepted, still waiting for the auth message
            await self._authenticate(text_data)
            return
        verdict = self.bucket.take()
        if verdict == "flood":
            await self.close(code=CLOSE_POLICY)
            return
        size = len(text_data.encode("utf-8", "surrogatepass")) if text_data is not None else len(bytes_data or b"")
        if size > MAX_FRAME_BYTES:
            await self.close(code=CLOSE_TOO_BIG)
            return
        if verdict == "refused":
            if not self.warned:  # one notice per overdraft, not one per message
                self.warned = True
                await self._error("rate_limited", gettext("Too many messages; slow down."))
            return
        self.warned = False
        content = _parse(text_data)
        if content is None:
            await self._error("bad_frame", gettext("Send a JSON object as text."))
            return
        await self.receive_json(content)

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        # Messages can be dropped; a client that suspects so asks for the truth again.
        if content.get("type") == "jobs.sync":
            await self._send_snapshots()
        else:
            await self._error("unknown_type", gettext("Unknown message type."))

    async def job_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def sockets_close(self, message: dict[str, Any]) -> None:
        """The account was banned (``generation.sockets.close_user_sockets``), or the socket's
        token was revoked (``accounts.ws_auth.close_token_sockets``)."""
        await self.close(code=int(message.get("code", CLOSE_FORBIDDEN)))

    @staticmethod
    async def _keep_watching(user_id: int) -> None:
        """Workers in other processes read a short-lived cache key; an open socket renews it."""
        while True:
            await renew_watch(user_id)
            await asyncio.sleep(WATCH_RENEW)

    async def _send_snapshots(self) -> None:
        for snapshot in await database_sync_to_async(unfinished_job_snapshots)(self.scope["user"]):
            await self.send_json(snapshot)

    async def _error(self, code: ErrorCode, detail: str) -> None:
        await self.send_json(error_event(code=code, detail=detail))


def _parse(text_data: str | None) -> dict[str, Any] | None:
    """A JSON object from a text frame, or None for anything else (binary, bad JSON, a list)."""
    if text_data is None:
        return None
    try:
        content = json.loads(text_data)
    except (ValueError, RecursionError):
        return None
    return content if isinstance(content, dict) else None
