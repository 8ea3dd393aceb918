"""API-wide error handling: every error is a 4xx with words a person understands."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from gallery.limits import LimitExceeded
from wee_waa.parsers import JsonBodyError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
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
