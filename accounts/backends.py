"""The login-limit backend: django-axes' check, first in AUTHENTICATION_BACKENDS."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend  # type: ignore[import-untyped]
from django.http import HttpRequest


class LoginLimitBackend(AxesStandaloneBackend):
    """Refuses a locked-out account or address before any backend hashes the password.

    axes raises when ``authenticate()`` comes without a request; such calls come from code on
    the server (management commands, the test client's ``login()``), not from a client whose
    guesses need counting, so they pass through to the next backend.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)  # type: ignore[no-any-return]
