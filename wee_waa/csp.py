"""The Content-Security-Policy header (django-csp), with the live socket's exact origin.

``connect-src 'self'`` does not cover ``ws:``/``wss:`` in every browser, and a bare ``ws:``
would let a script talk to any host; so each response names this host's own websocket
origin, the scheme following the page's (the browser's live.js does the same).
"""

from __future__ import annotations

from typing import Any

from csp.middleware import CSPMiddleware, PolicyParts
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.http.response import HttpResponseBase


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        try:
            host = request.get_host()
        except DisallowedHost:  # already answered with a 400; keep the plain policy
            return parts
        socket = f"{'wss' if request.is_secure() else 'ws'}://{host}"
        update: dict[str, Any] = dict(parts.update or {})
        update["connect-src"] = [*update.get("connect-src", []), socket]
        parts.update = update
        return parts
