"""Examples for the jobs API's OpenAPI description (/api/v1/schema/, shown at /api/docs/).

Kept apart from ``generation/api.py`` so the API module stays about behaviour; the examples are
checked against their schemas by ``tests/test_openapi.py``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample

from generation.events import JobStatus

# The statuses a job cannot be cancelled from (the 409's ``status``), in a stable order.
FINISHED_STATUSES = [status.value for status in JobStatus if status in JobStatus.final()]

JOB_EXAMPLE = OpenApiExample(
    "A queued job",
    response_only=True,
    value={
        "id": "q3Z8m1vS0bKx4TQeWc2J9A",
        "status": "queued",
        "progress": 0.0,
        "error": "",
        "prompt": "a quiet harbour at dawn",
        "style": None,
        "style_name": None,
        "seed": 1234567,
        "count": 2,
        "width": 512,
        "height": 512,
        "steps": 4,
        "kind": "draw",
        "source_image": None,
        "strength": None,
        "masked": False,
        "provenance": [],
        "model": "stabilityai/sd-turbo",
        "created_at": "2025-01-31T09:30:00Z",
        "started_at": None,
        "finished_at": None,
        "images": [],
        "position": 3,
        "eta_seconds": 12.5,
        "cancel_requested": False,
    },
)
JOB_REQUEST_EXAMPLE = OpenApiExample(
    "Two candidates",
    request_only=True,
    value={"prompt": "a quiet harbour at dawn", "count": 2, "width": 512, "height": 512, "steps": 4},
)
EDIT_REQUEST_EXAMPLE = OpenApiExample(
    "An edit of a region",
    request_only=True,
    value={
        "prompt": "make it snowy",
        "source_image": "q3Z8m1vS0bKx4TQeWc2J9A",
        "strength": 0.6,
        "mask": "data:image/png;base64,iVBORw0KGgo…",
    },
)
CANCEL_CONFLICT_EXAMPLE = OpenApiExample(
    "Already finished",
    value={"detail": "This job is already cancelled.", "status": "cancelled"},
    response_only=True,
)
