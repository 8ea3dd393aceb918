"""API-wide error handling: every error is a 4xx with words a person understands."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from accounts.models import User
from gallery.limits import LimitExceeded
from wee_waa.parsers import JsonBodyError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Services raise Django's ``ValidationError``; the API answers it as DRF would its own:
    400, with ``{"field": [messages]}`` when the service named the field, else
    ``{"detail": [messages]}`` (what ``static/js/api.js`` flattens for the page)."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages})
    if isinstance(exc, LimitExceeded):  # gallery/limits.py: its own status, and when to retry
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return Response({"detail": exc.message}, status=exc.status, headers=headers)
    if isinstance(exc, exceptions.ParseError) and not isinstance(exc, JsonBodyError):
        exc = exceptions.ParseError(_("The request body is not valid JSON."))
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        exc = exceptions.UnsupportedMediaType(
            getattr(exc, "media_type", ""), _("Send the request body as JSON (Content-Type: application/json).")
        )
    return drf_exception_handler(exc, context)


def signed_in_user(request: Request) -> User:
    """The caller of an API that requires sign-in (``IsAuthenticated``, the default), as the
    user it is: services that write on someone's behalf take a ``User``, not a maybe-anonymous."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


class SafeJSONRenderer(JSONRenderer):
    """UTF-8 JSON as usual, and ``\\u`` escapes when some text cannot be encoded (a lone
    surrogate echoed back in an error message): rendering an answer must never be the 500."""

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        try:
            return bytes(super().render(data, accepted_media_type, renderer_context))
        except UnicodeEncodeError:
            return bytes(_AsciiJSONRenderer().render(data, accepted_media_type, renderer_context))


class _AsciiJSONRenderer(JSONRenderer):
    ensure_ascii = True
