"""Error pages that cannot themselves fail on a body they never needed.

Django's default error views carry ``requires_csrf_token``, whose CSRF check reads the body of
a POST. Inside a view, a multipart body that does not parse is turned into a 400 by Django;
inside the 404 page for the same request it escaped as a 500. These wrappers answer 400 then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.views import defaults


def _unbreakable(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def handler(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except MultiPartParserError:
            return HttpResponseBadRequest(
                _("The request body is not a valid multipart form."), content_type="text/plain; charset=utf-8"
            )

    return handler


bad_request = _unbreakable(defaults.bad_request)
permission_denied = _unbreakable(defaults.permission_denied)
page_not_found = _unbreakable(defaults.page_not_found)
server_error = _unbreakable(defaults.server_error)
