"""Login throttling with django-axes: a budget of failures per account name and per address.

axes counts failed logins for each lockout parameter (username; client address) but compares
them all with one ``AXES_FAILURE_LIMIT``. An account wants a small budget (10 guesses at one
password) and an address a larger one (30: a family or an office behind one NAT mistypes
several accounts), so :class:`LoginLimitHandler` answers "how many budgets are used up" and
``AXES_FAILURE_LIMIT`` is 1: locked when either is.
"""

from __future__ import annotations

import ipaddress
import math
from typing import Any

from axes.handlers.database import AxesDatabaseHandler  # type: ignore[import-untyped]
from axes.helpers import get_cool_off  # type: ignore[import-untyped]
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from wee_waa.errors import too_many_requests


def client_address(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind our proxy the last X-Forwarded-For entry
    (the one nginx appended; earlier entries are whatever the client sent). None when there is
    no valid one (a request built on the server, as ``force_login`` does): axes stores it in an
    IP address column, which PostgreSQL checks."""
    candidates = [request.META.get("REMOTE_ADDR")]
    if settings.WEE_WAA_BEHIND_PROXY:
        candidates.insert(0, request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip())
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(str(candidate or "")))
        except ValueError:
            continue
    return None


class LoginLimitHandler(AxesDatabaseHandler):
    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        """The number of used-up budgets: the account's and the address's."""
        budgets = (settings.WEE_WAA_LOGIN_FAILURES_PER_USER, settings.WEE_WAA_LOGIN_FAILURES_PER_ADDRESS)
        # One queryset per AXES_LOCKOUT_PARAMETERS entry, in that order: username, ip_address.
        attempts = self.get_user_attempts(request, credentials)
        used = 0
        for queryset, budget in zip(attempts, budgets, strict=True):
            failures = queryset.aggregate(total=Sum("failures_since_start"))["total"] or 0
            used += failures >= budget
        return used


def lockout_response(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """A 429 page that says what happened and when to try again (also sent as Retry-After)."""
    cool_off = get_cool_off(request)
    seconds = int(cool_off.total_seconds()) if cool_off else 900
    minutes = math.ceil(seconds / 60)
    message = _(
        "Too many failed logins for this account or from your network. "
        "For your safety, logging in is paused: please try again in %(minutes)d minutes."
    ) % {"minutes": minutes}
    return too_many_requests(
        request, message=message, retry_after=seconds, template_name="registration/locked_out.html"
    )
