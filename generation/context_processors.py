from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from generation.runtime import model_status


def model_status_context(request: HttpRequest) -> dict[str, Any]:
    return {"model_status": model_status()}
