"""Pages of the generation app: the studio, the health check, the metrics scrape and the
websocket events' JSON Schema."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_prometheus.exports import ExportToDjangoView

from generation import events, health, selectors, ui_strings


@login_required
def studio(request: HttpRequest) -> HttpResponse:
    """The form's bounds and choices are the API's (``ui_strings.studio_limits``), and the
    script's strings go out through ``json_script``: nothing the page shows is typed twice."""
    style = selectors.style_default()
    limits = ui_strings.studio_limits()
    return render(
        request,
        "generation/studio.html",
        {
            "styles": selectors.styles_active(),
            "default_style": style,
            "limits": limits,
            "counts": range(limits["count_min"], limits["count_max"] + 1),
            "default_count": min(max(ui_strings.DEFAULT_COUNT, limits["count_min"]), limits["count_max"]),
            "sizes": ui_strings.studio_sizes(limits),
            "default_size": style.default_width if style else 512,
            "default_steps": style.default_steps if style else 4,
            "studio_strings": ui_strings.studio_strings(),
        },
    )


@require_safe
def events_schema(request: HttpRequest) -> JsonResponse:
    """What ``/ws/generation/`` sends, generated from ``generation.events`` (never hand-written),
    so clients and tests check messages against the definitions the server builds them from."""
    return JsonResponse(events.events_schema())


@require_safe
@never_cache
async def healthz(request: HttpRequest) -> JsonResponse:
    """Read-only. Anyone gets ok/error flags (enough for a load balancer); staff and holders of
    ``WEE_WAA_HEALTH_TOKEN`` also get the model, manager and workers. 503 only when the
    database does not answer; a down cache or channel layer reads "degraded" with a 200."""
    body = await sync_to_async(_sync_health)(request)
    channel_layer, channel_layer_error = await health.check_channel_layer()
    body["channel_layer"] = channel_layer
    if channel_layer_error and "errors" in body:
        body["errors"]["channel_layer"] = channel_layer_error
    if body["database"] != "ok":
        body["status"] = "error"
    elif body["cache"] != "ok" or channel_layer != "ok":
        body["status"] = "degraded"
    return JsonResponse(body, status=503 if body["status"] == "error" else 200)


def _sync_health(request: HttpRequest) -> dict[str, Any]:
    database, database_error = health.check_database()
    cache, cache_error = health.check_cache()
    body: dict[str, Any] = {"status": "ok", "database": database, "cache": cache}
    if health.may_see_details(request):
        errors = {"database": database_error, "cache": cache_error}
        body["errors"] = {name: error for name, error in errors.items() if error}
        body.update(health.details(database_ok=database == "ok"))
    return body


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape. Open while ``WEE_WAA_METRICS_TOKEN`` is unset (a laptop); once set,
    only ``Authorization: Bearer <token>`` reads it: the figures describe users' activity."""
    expected = settings.WEE_WAA_METRICS_TOKEN
    if expected and not health.bearer_token_matches(request, expected):
        if "Authorization" not in request.headers:
            response = HttpResponse(gettext("A bearer token is required."), status=401, content_type="text/plain")
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
        return HttpResponse(gettext("Wrong token."), status=403, content_type="text/plain")
    return ExportToDjangoView(request)  # type: ignore[no-any-return]
