"""Who a websocket is for: its session, a bearer token in the handshake, or an auth message.

Programs sign in to ``/ws/generation/`` with a personal token in one of two ways:
- ``Authorization: Bearer wwt_…`` on the handshake (most websocket libraries can send headers);
- when the library cannot, a first message ``{"type": "auth", "token": "wwt_…"}`` within
  ``AUTH_MESSAGE_SECONDS`` of connecting. Only handshakes without an ``Origin`` header (not a
  browser) may do this; a browser's socket still needs its session, and is refused at once
  without one, as before.
Never from the query string: URLs land in access logs, proxies and browser history. A token
found there is refused outright, so the mistake is noticed rather than silently ignored.

The consumer stays thin: it asks ``socket_identity`` on connect and ``token_from_message`` for
the first message; this module also closes the sockets of a revoked token.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from accounts.models import ApiToken, User
from accounts.tokens import atoken_authenticate

logger = logging.getLogger(__name__)

AUTH_MESSAGE_SECONDS = 5.0
AUTH_MESSAGE_MAX_BYTES = 1024
# Query-string names a client might put a token under; any of them refuses the handshake.
QUERY_TOKEN_NAMES = frozenset({"token", "access_token", "auth", "bearer", "api_token"})
CLOSE_UNAUTHENTICATED = 4401
SEND_TIMEOUT = 5.0


class SocketIdentity(NamedTuple):
    """What the handshake says: a user (and the token, for token sockets), or nobody yet."""

    user: User | None
    token: ApiToken | None = None
    # A program with no credentials yet: accept, and wait for ``{"type": "auth"}``.
    awaits_message: bool = False


def _headers(scope: dict[str, Any]) -> dict[bytes, bytes]:
    return {name.lower(): value for name, value in scope.get("headers", [])}


def bearer_token(scope: dict[str, Any]) -> str | None:
    """The raw token from ``Authorization: Bearer …``, "" for a malformed header, None without one."""
    value = _headers(scope).get(b"authorization")
    if value is None:
        return None
    parts = value.split()
    if len(parts) != 2 or parts[0].lower() != b"bearer":
        return ""
    try:
        return parts[1].decode("ascii")
    except UnicodeDecodeError:
        return ""


def token_in_query(scope: dict[str, Any]) -> bool:
    raw = scope.get("query_string", b"")
    try:
        names = parse_qs(raw.decode("latin1"), keep_blank_values=True)
    except ValueError:
        return False
    return any(name.lower() in QUERY_TOKEN_NAMES for name in names)


async def socket_identity(scope: dict[str, Any]) -> SocketIdentity:
    """The handshake's user: a bearer header wins over the session (like the API); a token in
    the query string or a bad bearer token is nobody; no credentials at all from a program
    (no ``Origin``) means "wait for an auth message"."""
    if token_in_query(scope):
        logger.warning("A websocket handshake carried a token in its query string; refused")
        return SocketIdentity(None)
    raw = bearer_token(scope)
    if raw is not None:
        token = await atoken_authenticate(raw)
        return SocketIdentity(token.user, token) if token is not None else SocketIdentity(None)
    user = scope.get("user")
    if user is not None and user.is_authenticated:
        return SocketIdentity(user)
    return SocketIdentity(None, awaits_message=b"origin" not in _headers(scope))


async def token_from_message(text_data: str | None) -> ApiToken | None:
    """The token of a first message ``{"type": "auth", "token": "…"}``; None for anything else."""
    if text_data is None or len(text_data) > AUTH_MESSAGE_MAX_BYTES:
        return None
    try:
        content = json.loads(text_data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(content, dict) or content.get("type") != "auth" or not isinstance(content.get("token"), str):
        return None
    return await atoken_authenticate(content["token"])


async def close_unless_authenticated(consumer: Any) -> None:
    """The deadline for the auth message: the consumer cancels this task when one arrives."""
    await asyncio.sleep(AUTH_MESSAGE_SECONDS)
    await consumer.close(code=CLOSE_UNAUTHENTICATED)


def token_group(token_id: str) -> str:
    """The channel-layer group of the sockets a token opened (closed when it is revoked)."""
    return f"accounts.token.{token_id}"


def close_token_sockets(token_id: str) -> None:
    """Ask every open socket of a revoked token (any process) to close with 4401. Never
    raises: the revocation stands, and a reconnect with the token is refused anyway."""
    from generation.sockets import close_group_sockets

    close_group_sockets(token_group(token_id), CLOSE_UNAUTHENTICATED)
