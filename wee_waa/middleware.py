"""Refuse a NUL character in the address or a form body, before any view or database sees it.

PostgreSQL refuses NUL in text (``DataError``: a 500), and SQLite quietly stores it. Our own
URLs already refuse it at the router (wee_waa/converters.py) and JSON bodies at the parser
(wee_waa/parsers.py); this covers the rest: Django's admin (``/admin/…/%00/change/``, a search
for ``%00``, an action on ``%00``), query parameters every view reads, and form posts. Nothing
legitimate contains a NUL, so one 400 with a message here replaces checks in every view.

Multipart bodies are not looked into: reading them here would load uploads into memory and
use up the stream DRF reads; their text fields go through form fields, which refuse NUL.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

FORM = "application/x-www-form-urlencoded"


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path or "\x00" in urllib.parse.unquote(request.META.get("QUERY_STRING", "")):
        return True
    if request.method in ("POST", "PUT", "PATCH") and request.content_type == FORM:
        # The raw body, not request.POST: it stays readable for DRF and the view afterwards.
        return b"\x00" in urllib.parse.unquote_to_bytes(request.body)
    return False


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            message = _("The request contains a NUL character, which is never part of a valid address or form.")
            if request.path_info.startswith("/api/"):  # API errors are JSON, as the schema says
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
