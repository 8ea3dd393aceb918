"""Error pages in the site's own look, and error answers that cannot themselves fail.

Whoever opens a turned-off share link or a mistyped address lands here first, so the pages
say what happened in words (Korean or English) and offer a way back, instead of Django's bare
"Not Found". Three rules keep them safe:

- ``/api/`` answers JSON ``{"detail": ...}`` as DRF does, never a page the studio's script
  cannot read.
- The 500 page is rendered without the request: no context processor, no session, no user,
  so no database; it is the page shown when the database is what broke.
- Django's default error views carry ``requires_csrf_token``, whose CSRF check reads the body
  of a POST. A multipart body that does not parse escaped the 404 page as a 500; it is a 400.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseServerError,
    JsonResponse,
)
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


class ShareLinkUnavailable(Http404):
    """A ``/s/<token>/`` link that leads nowhere: turned off by its owner, or the picture made
    private or taken down. The 404 page says so; a bare "not found" reads like a typo."""


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _json_error(message: str, status: int) -> JsonResponse:
    """DRF's shape and, where they exist, DRF's words (already translated in its catalog)."""
    return JsonResponse({"detail": message}, status=status)


def _unbreakable(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except MultiPartParserError:
            return HttpResponseBadRequest(
                _("The request body is not a valid multipart form."), content_type="text/plain; charset=utf-8"
            )

    return handler


@requires_csrf_token
def _bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _json_error(_("Malformed request."), 400)
    # Nothing from the exception is shown: it may be a SuspiciousOperation about someone else.
    return render(request, "400.html", status=400)


@requires_csrf_token
def _permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _json_error(_("You do not have permission to perform this action."), 403)
    return render(request, "403.html", status=403)


@requires_csrf_token
def _page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return _json_error(_("Not found."), 404)
    return render(request, "404.html", {"share_link": isinstance(exception, ShareLinkUnavailable)}, status=404)


def _server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return _json_error(_("A server error occurred."), 500)
    try:
        # No request, hence no context processors: the user, the session and the model status
        # all stay unread, so a broken database cannot break this page too.
        return HttpResponseServerError(loader.get_template("500.html").render())
    except Exception:  # the last page there is: never a traceback instead of it
        logger.exception("The 500 page could not be rendered")
        return HttpResponseServerError(
            _("Something went wrong on our side. Please try again in a moment."),
            content_type="text/plain; charset=utf-8",
        )


def too_many_requests(
    request: HttpRequest,
    *,
    message: str,
    retry_after: int,
    template_name: str = "429.html",
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """The 429 page for a page (not an API) that refuses for a while: what happened, when to
    come back (also as ``Retry-After``), and a way elsewhere meanwhile."""
    retry_after = max(1, int(retry_after))
    response = render(
        request,
        template_name,
        {"message": message, "retry_minutes": math.ceil(retry_after / 60), **(context or {})},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


bad_request = _unbreakable(_bad_request)
permission_denied = _unbreakable(_permission_denied)
page_not_found = _unbreakable(_page_not_found)
server_error = _unbreakable(_server_error)
