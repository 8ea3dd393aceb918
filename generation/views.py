"""Pages of the generation app: the studio, and the health check."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from generation import selectors
from generation.api import MAX_PROMPT
from generation.models import Style
from generation.runtime import current_manager, manager_health, model_status


@login_required
def studio(request: HttpRequest) -> HttpResponse:
    style = selectors.style_default()
    return render(
        request,
        "generation/studio.html",
        {
            "styles": selectors.styles_active(),
            "default_style": style,
            "max_prompt": MAX_PROMPT,
            "sizes": [256, 384, 512, 640, 768, 1024],
            "default_size": style.default_width if style else 512,
            "default_steps": style.default_steps if style else 4,
        },
    )


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the database answers; the model part is information, not a failure, because
    a web process with ``WEE_WAA_MANAGER=off`` has no model of its own."""
    try:
        Style.objects.exists()  # a real round trip, not just an open socket
        database = "ok"
    except DatabaseError as exc:
        database = f"error: {exc.__class__.__name__}"
    status = model_status()
    manager = current_manager()
    if manager is not None:
        manager.ensure_running()  # the watchdog: a dead manager thread is started again
    body: dict[str, Any] = {
        "status": "ok" if database == "ok" else "error",
        "database": database,
        "model": {
            "loaded": status.loaded,
            "state": status.state,
            "name": status.model,
            "requested": status.requested_model,
            "device": status.device,
            "demo": status.demo,
            "error": status.error,
            "preview": status.extra.get("preview", ""),
        },
        "manager": manager_health(manager),
        "workers": selectors.workers_alive() if database == "ok" else [],
    }
    return JsonResponse(body, status=200 if database == "ok" else 503)
