"""Small builders shared by the tests."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from generation import services
from generation.events import JobStatus
from generation.models import Background, GenerationJob
from wee_waa.ids import new_public_id


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


def drawn_background(owner: Any, *, kept: bool = True, size: int = 64) -> Background:
    """A finished job's picture without running the model: the rows and a small PNG, as the
    manager would have written them. For tests about what happens after drawing."""
    job = GenerationJob.objects.create(
        owner=owner,
        prompt="Springfield at sunset",
        full_prompt="Springfield at sunset",
        seed=7,
        steps=2,
        width=size,
        height=size,
        count=1,
        status=JobStatus.SUCCEEDED,
        progress=1.0,
        finished_at=timezone.now(),
    )
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (90, 160, 220)).save(buffer, format="PNG")
    name = default_storage.save(f"backgrounds/{job.id}/{new_public_id()}.png", ContentFile(buffer.getvalue()))
    return Background.objects.create(
        job=job, index=0, seed=7, image=name, width=size, height=size, kept_at=timezone.now() if kept else None
    )
