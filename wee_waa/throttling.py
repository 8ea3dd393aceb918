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
from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from accounts.authentication import api_token_of

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
    """DRF's per-scope throttle, per user, and per token for token requests; allowing the
    request (with a log line) when the cache fails.

    Budgets: every request counts against its user's budget for the scope (the scope's rate,
    shared by the session and all the user's tokens), and a token request also against its
    token's own budget (``<scope>_per_token`` in ``DEFAULT_THROTTLE_RATES``, else the scope's
    rate). So one runaway script runs out of its own budget first, and a 429 names the token
    that caused it; yet minting tokens never multiplies the quota, and a user whose session has
    spent its budget cannot carry on with a token. Rates are read from the settings at each
    request (not frozen at import like DRF's), so an override applies at once.
    """

    def get_rate(self) -> str | None:
        return self._rate_text(str(self.scope))

    @staticmethod
    def _rate_text(name: str) -> str:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(name)
        if not isinstance(rate, str):
            raise ImproperlyConfigured(f"No default throttle rate set for '{name}' scope")
        return rate

    def _parsed(self, rate: str) -> tuple[int, int]:
        num_requests, duration = self.parse_rate(rate)
        if num_requests is None or duration is None:
            raise ImproperlyConfigured(f"Bad throttle rate {rate!r}")
        return num_requests, duration

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return self._allow(request, view)
        except Exception:
            logger.warning("Throttle %s not applied: the cache is unreachable", self.scope, exc_info=True)
            return True

    def _budgets(self, request: Any) -> list[tuple[str, int, int]]:
        """(cache key, requests, seconds) for each budget this request spends."""
        scope = str(self.scope)
        num_requests, duration = self._parsed(self._rate_text(scope))
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        budgets = [(self.cache_format % {"scope": scope, "ident": ident}, num_requests, duration)]
        token = api_token_of(request)
        if token is not None:
            per_token = f"{scope}_per_token"
            rate = self._rate_text(per_token if per_token in api_settings.DEFAULT_THROTTLE_RATES else scope)
            token_requests, token_duration = self._parsed(rate)
            key = self.cache_format % {"scope": scope, "ident": f"token-{token.pk}"}
            budgets.append((key, token_requests, token_duration))
        return budgets

    def _allow(self, request: Any, view: Any) -> bool:
        """All budgets or none: a request refused by one budget spends nothing from the others."""
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.now = self.timer()
        budgets = self._budgets(request)
        histories: list[list[float]] = []
        for key, num_requests, duration in budgets:
            history = [moment for moment in self.cache.get(key, []) if moment > self.now - duration]
            if len(history) >= num_requests:  # what ``wait()`` reads for Retry-After
                self.key, self.history, self.num_requests, self.duration = key, history, num_requests, duration
                return False
            histories.append(history)
        for (key, _num_requests, duration), history in zip(budgets, histories, strict=True):
            history.insert(0, self.now)
            self.cache.set(key, history, duration)
        return True
