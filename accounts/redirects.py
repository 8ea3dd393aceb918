"""Where to send someone after they sign up or log in: back to what they were looking at.

``next`` comes from the address bar, so it is untrusted: only a path on this site is followed
(``//evil.com``, ``https://evil.com`` and ``javascript:`` are not), and anything else means the
studio, as if no ``next`` had been given.
"""

from __future__ import annotations

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest) -> str:
    """The request's ``next`` (form field first, then query string) when it stays on this site,
    else ``""``. Read, checked and returned in one step, so no caller uses it unchecked."""
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""
