"""``Authorization: Bearer wwt_…`` for the API: the token's owner is the user, the token is
``request.auth``.

Token requests need no CSRF token: CSRF protects credentials a browser adds by itself
(cookies), and a browser never adds an ``Authorization`` header to a cross-site request.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from accounts.models import ApiToken, User
from accounts.tokens import token_authenticate

KEYWORD = b"bearer"
# One message for every refusal: which of unknown, revoked or expired is not said to strangers.
INVALID = gettext_lazy("This token is not valid, or it was revoked or has expired.")


class BearerTokenAuthentication(BaseAuthentication):
    """First in ``DEFAULT_AUTHENTICATION_CLASSES``: a request that presents a bearer token is
    judged by it alone (a wrong token is a 401 even with a session cookie alongside), and a
    request without one falls through to the session, unchanged."""

    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as: Authorization: Bearer <token>."))
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(INVALID) from None
        token = token_authenticate(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(INVALID)
        return token.user, token

    def authenticate_header(self, request: Request) -> str | None:
        """``WWW-Authenticate: Bearer`` (and a 401) for callers that sent an ``Authorization``
        header; None otherwise, so a browser without a session still gets the 403 it always did."""
        if not get_authorization_header(request):
            return None
        return f'Bearer realm="{self.www_authenticate_realm}"'


def api_token_of(request: Any) -> ApiToken | None:
    """The token a DRF request was authenticated with, or None (session, anonymous)."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, ApiToken) else None
