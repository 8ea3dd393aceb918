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
from generation.selectors import style_default
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
    return services.job_create(owner=owner, **options).job


def drawn_backgrounds(
    owner: Any,
    *,
    count: int = 1,
    kept: bool = True,
    prompt: str = "Springfield at sunset",
    width: int = 64,
    height: int = 64,
    seed: int = 7,
) -> list[Background]:
    """A finished job's pictures without running the model: the rows (in the default style, as
    ``job_create`` would pick) and small PNGs, as the manager would have written them. For tests
    about what happens after drawing; only the first picture is kept when ``kept`` is set."""
    style = style_default()
    job = GenerationJob.objects.create(
        owner=owner,
        style=style,
        prompt=prompt,
        full_prompt=style.render_prompt(prompt) if style else prompt,
        seed=seed,
        steps=2,
        width=width,
        height=height,
        count=count,
        status=JobStatus.SUCCEEDED,
        progress=1.0,
        finished_at=timezone.now(),
    )
    images = []
    for index in range(count):
        buffer = io.BytesIO()
        Image.new("RGB", (width, height), (90, 160, 220 - index)).save(buffer, format="PNG")
        name = default_storage.save(f"backgrounds/{job.id}/{new_public_id()}.png", ContentFile(buffer.getvalue()))
        images.append(
            Background.objects.create(
                job=job,
                index=index,
                seed=seed + index,
                image=name,
                width=width,
                height=height,
                kept_at=timezone.now() if kept and index == 0 else None,
            )
        )
    return images


def drawn_background(owner: Any, *, kept: bool = True, size: int = 64, **options: Any) -> Background:
    """One drawn picture (see ``drawn_backgrounds``), square unless ``width``/``height`` say."""
    options.setdefault("width", size)
    options.setdefault("height", size)
    return drawn_backgrounds(owner, kept=kept, **options)[0]
