"""Reads of generation data, shaped for the API, the websocket snapshot and the pages."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db.models import QuerySet

from generation.events import EventType, ImagePayload, JobStatus, SnapshotEvent
from generation.models import Background, GenerationJob, Style


def style_default() -> Style | None:
    return Style.objects.filter(is_active=True).order_by("-is_default", "name", "id").first()


def styles_active() -> QuerySet[Style]:
    return Style.objects.filter(is_active=True).order_by("-is_default", "name", "id")


def jobs_for_user(user: Any) -> QuerySet[GenerationJob]:
    return (
        GenerationJob.objects.filter(owner=user)
        .select_related("style")
        .prefetch_related("images")
        .order_by("-created_at", "-id")
    )


def image_payload(image: Background) -> ImagePayload:
    return {"id": image.id, "url": default_storage.url(image.image.name), "seed": image.seed}


def job_snapshot(job: GenerationJob) -> SnapshotEvent:
    step = round(job.progress * job.steps)
    return {
        "type": EventType.SNAPSHOT.value,
        "job_id": job.id,
        "status": job.status,
        "progress": job.progress,
        "step": step,
        "total": job.steps,
        "error": job.error,
        "images": [image_payload(image) for image in job.images.all()],
    }


def unfinished_job_snapshots(user: Any) -> list[SnapshotEvent]:
    """What a (re)connecting websocket is told first: the state of every open job."""
    jobs = jobs_for_user(user).filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
    return [job_snapshot(job) for job in jobs]


def backgrounds_kept(user: Any) -> QuerySet[Background]:
    return (
        Background.objects.filter(job__owner=user, kept_at__isnull=False)
        .select_related("job", "job__style")
        .order_by("-kept_at", "-id")
    )
