"""Rate limits that count in the cache, and degrade instead of failing when it is down.

A limit protects the service; if the cache (Redis) is unreachable, refusing every like or
sign-up would turn a cache outage into a site outage. So a cache error lets the request
through and says so in the log, once per call site.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


def rate_limited(key: str, *, limit: int, window: int) -> int | None:
    """Count one hit on ``key``; over ``limit`` hits in ``window`` seconds answers how many
    seconds to wait (for ``Retry-After``), otherwise None. Fixed windows: cheap, and close
    enough for abuse limits."""
    bucket = int(time.time() // window)
    name = f"ratelimit:{key}:{bucket}"
    try:
        hits = 1 if cache.add(name, 1, timeout=window + 1) else cache.incr(name)
    except Exception:  # the cache is down: allow, and say so
        logger.warning("Rate limit %s not applied: the cache is unreachable", key, exc_info=True)
        return None
    if hits > limit:
        return max(1, int((bucket + 1) * window - time.time()) + 1)
    return None


class ResilientScopedRateThrottle(ScopedRateThrottle):
    """DRF's per-scope throttle, allowing the request (with a log line) when the cache fails."""

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return bool(super().allow_request(request, view))
        except Exception:
            logger.warning("Throttle %s not applied: the cache is unreachable", self.scope, exc_info=True)
            return True
