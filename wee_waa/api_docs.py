"""The API's description for people and programs: the OpenAPI document and the docs page.

``/api/v1/schema/`` is drf-spectacular's schema view (YAML, or JSON with ``?format=json``),
public like the docs: the API's shape is no secret, its data is. ``/api/docs/`` is Swagger UI
from our own static files (drf-spectacular-sidecar) under the site's strict CSP: the page has
no inline script or style, so its settings go out as a JSON data block that
``static/js/api-docs.js`` reads, and the CSRF token comes from the cookie, never from a script
the server renders (a script another site could include and read).
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from wee_waa.api import SafeJSONRenderer
from wee_waa.openapi import EVENTS_SCHEMA_URL, SPECTACULAR_SETTINGS

SWAGGER_UI = "drf_spectacular_sidecar/swagger-ui-dist/"


class SchemaView(SpectacularAPIView):
    """drf-spectacular's view, with ``?lang=`` limited to the site's languages: Django keeps a
    translation object for every language code it is asked for, so any string a client sends
    would grow that cache for the life of the process."""

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        lang = request.query_params.get("lang")
        codes = [code for code, _name in settings.LANGUAGES]
        if lang is not None and lang not in codes:
            raise ValidationError({"lang": [_("Choose one of: %(codes)s.") % {"codes": ", ".join(codes)}]})
        return cast(Response, super().get(request, *args, **kwargs))  # type: ignore[no-untyped-call]

    def handle_exception(self, exc: Exception) -> Response:
        """Errors in JSON like the rest of the API, not in the schema's YAML."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer, self.request.accepted_media_type = SafeJSONRenderer(), "application/json"
        return response


@require_safe
def api_docs(request: HttpRequest) -> HttpResponse:
    """Swagger UI for the schema, with links to the raw documents and the websocket events."""
    schema_url = reverse("api-schema")
    return render(
        request,
        "api/docs.html",
        {
            "schema_url": schema_url,
            "events_schema_url": EVENTS_SCHEMA_URL,
            "tokens_url": reverse("api-tokens"),
            "swagger_ui": SWAGGER_UI,
            "swagger_config": {
                "url": f"{schema_url}?format=json",
                "settings": SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"],
                "csrfHeader": settings.CSRF_HEADER_NAME.removeprefix("HTTP_").replace("_", "-"),
                "csrfCookie": settings.CSRF_COOKIE_NAME,
            },
        },
    )
