"""What ``/healthz`` checks: a real round trip to each service, each bounded in time.

Read-only on purpose: the manager restarts itself (its heartbeat is the watchdog), so a GET
changes nothing. Only the database decides the HTTP status (without it nothing works); a dead
cache or channel layer makes the process "degraded" — pages still answer, live progress or
rate limits do not — and a load balancer should not take it out of rotation for that.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from typing import Any, Literal

from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest

from generation import selectors
from generation.models import Style
from generation.runtime import current_manager, manager_health, model_status

logger = logging.getLogger(__name__)

CHANNEL_LAYER_TIMEOUT = 2.0
Check = Literal["ok", "error"]


def bearer_token_matches(request: HttpRequest, expected: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), expected)


def may_see_details(request: HttpRequest) -> bool:
    """Staff by session, or anyone holding ``WEE_WAA_HEALTH_TOKEN`` (a monitor, a benchmark)."""
    if bearer_token_matches(request, settings.WEE_WAA_HEALTH_TOKEN):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)


def check_database() -> tuple[Check, str]:
    try:
        Style.objects.exists()  # a real round trip, not just an open socket
    except DatabaseError as exc:
        return "error", exc.__class__.__name__
    return "ok", ""


def check_cache() -> tuple[Check, str]:
    key = f"healthz:{secrets.token_hex(8)}"
    try:
        cache.set(key, "1", 10)
        answered = cache.get(key)
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001 - any backend's failure is "error", never a 500
        logger.warning("Health check: the cache failed: %r", exc)
        return "error", exc.__class__.__name__
    return ("ok", "") if answered == "1" else ("error", "value not kept")


async def check_channel_layer() -> tuple[Check, str]:
    """Send a message to a fresh channel and read it back: what a websocket event does."""
    layer = get_channel_layer()
    if layer is None:
        return "error", "not configured"
    try:
        async with asyncio.timeout(CHANNEL_LAYER_TIMEOUT):
            channel = await layer.new_channel("healthz.")
            await layer.send(channel, {"type": "health.ping"})
            message = await layer.receive(channel)
    except Exception as exc:  # noqa: BLE001 - a timeout, refused connection, ...: "error"
        logger.warning("Health check: the channel layer failed: %r", exc)
        return "error", exc.__class__.__name__
    return ("ok", "") if message.get("type") == "health.ping" else ("error", "wrong message")


def details(database_ok: bool) -> dict[str, Any]:
    """The internals only staff and monitors see: model, manager thread, workers."""
    status = model_status()
    return {
        "model": {
            "loaded": status.loaded,
            "state": status.state,
            "name": status.model,
            "requested": status.requested_model,
            "device": status.device,
            "demo": status.demo,
            "error": status.error,
            "preview": status.extra.get("preview", ""),
            "torch_threads": status.extra.get("torch_threads"),
            "warmup_seconds": status.extra.get("warmup_seconds"),
            "warmup_buckets": status.extra.get("warmup_buckets", {}),
        },
        "manager": manager_health(current_manager()),
        "workers": selectors.workers_alive() if database_ok else [],
    }
