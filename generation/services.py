"""Writes of generation data. Views, API classes and consumers call these and nothing else."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from generation import runtime
from generation.manager.publisher import ChannelLayerPublisher
from generation.metrics import JOBS_SUBMITTED
from generation.models import Background, GenerationJob, Style
from generation.selectors import job_snapshot, style_default

logger = logging.getLogger(__name__)

MAX_SEED = 2**32 - 1


def job_create(
    *,
    owner: Any,
    prompt: str,
    count: int = 1,
    width: int | None = None,
    height: int | None = None,
    steps: int | None = None,
    seed: int | None = None,
    style: Style | None = None,
) -> GenerationJob:
    """Write the job ``queued`` first; the manager hears of it only after the commit, so it
    never looks for a row that is not there yet."""
    style = style or style_default()
    prompt = prompt.strip()
    job = GenerationJob(
        owner=owner,
        style=style,
        prompt=prompt,
        full_prompt=style.render_prompt(prompt) if style else prompt,
        negative_prompt=style.negative_prompt if style else "",
        guidance_scale=style.guidance_scale if style else 0.0,
        steps=steps or (style.default_steps if style else 4),
        width=width or (style.default_width if style else 512),
        height=height or (style.default_height if style else 512),
        count=count,
        # The seed is fixed at submit time so provenance always names the seed that drew it.
        seed=seed if seed is not None else secrets.randbelow(MAX_SEED - 8),
    )
    with transaction.atomic():
        job.save()
        transaction.on_commit(runtime.notify_new_job)
        transaction.on_commit(lambda: _announce(job))
    JOBS_SUBMITTED.inc()
    return job


def _announce(job: GenerationJob) -> None:
    """Tell the owner's other tabs about the new job; a lost message only delays the card."""
    try:
        ChannelLayerPublisher().publish(job.owner_id, dict(job_snapshot(job)))
    except Exception:
        logger.exception("Could not announce job %s", job.id)


def background_keep(*, image: Background) -> Background:
    """Idempotent: keeping twice keeps the first date (the gallery order stays stable)."""
    if image.kept_at is None:
        image.kept_at = timezone.now()
        Background.objects.filter(id=image.id, kept_at__isnull=True).update(kept_at=image.kept_at)
        image.refresh_from_db(fields=["kept_at"])
    return image
