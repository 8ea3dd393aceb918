"""Small builders shared by the tests."""

from __future__ import annotations

from typing import Any

from generation import services
from generation.models import GenerationJob


def queue_job(owner: Any, **overrides: Any) -> GenerationJob:
    """A queued job at the cheapest settings the tiny model accepts."""
    options: dict[str, Any] = {
        "prompt": "Springfield at sunset, snowy street",
        "count": 1,
        "width": 64,
        "height": 64,
        "steps": 2,
    }
    options.update(overrides)
    return services.job_create(owner=owner, **options)
