"""Reads of generation data, shaped for the API, the websocket snapshot and the pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from accounts.types import Viewer, viewer_id
from gallery.media import media_url
from generation.events import ImagePayload, JobStatus, QueuePlace, SnapshotEvent, snapshot_event
from generation.manager.types import OwnerId
from generation.models import Background, GenerationJob, GenerationWorker, Style
from generation.queueing import queue_places


def style_default() -> Style | None:
    return Style.objects.filter(is_active=True).order_by("-is_default", "name", "id").first()


def styles_active() -> QuerySet[Style]:
    return Style.objects.filter(is_active=True).order_by("-is_default", "name", "id")


def jobs_for_user(user: Viewer) -> QuerySet[GenerationJob]:
    return (
        GenerationJob.objects.filter(owner_id=viewer_id(user))
        .select_related("style")
        .prefetch_related("images")
        .order_by("-created_at", "-id")
    )


def image_payload(image: Background) -> ImagePayload:
    return {"id": image.id, "url": media_url(image.image.name), "seed": image.seed}


def job_snapshot(job: GenerationJob, places: dict[str, tuple[OwnerId, QueuePlace]] | None = None) -> SnapshotEvent:
    place = (places or {}).get(job.id)
    return snapshot_event(
        job_id=job.id,
        status=job.status,
        progress=job.progress,
        step=round(job.progress * job.steps),
        total=job.steps,
        error=job.error,
        images=[image_payload(image) for image in job.images.all()],
        position=place[1]["position"] if place else None,
        eta_seconds=place[1]["eta_seconds"] if place else None,
        cancel_requested=job.cancel_requested,
    )


def unfinished_job_snapshots(user: Viewer) -> list[SnapshotEvent]:
    """What a (re)connecting websocket is told first: the state of every open job."""
    jobs = list(jobs_for_user(user).filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]))
    places = queue_places() if any(job.status == JobStatus.QUEUED for job in jobs) else {}
    return [job_snapshot(job, places) for job in jobs]


def backgrounds_kept(user: Viewer) -> QuerySet[Background]:
    return (
        Background.objects.filter(job__owner_id=viewer_id(user), kept_at__isnull=False)
        .select_related("job", "job__style")
        .order_by("-kept_at", "-id")
    )


def backgrounds_kept_matching(user: Viewer, *, search: str = "") -> QuerySet[Background]:
    """My pictures' Backgrounds tab: the kept ones whose prompt holds ``search``, in any case
    (the words the person typed, not the style's full prompt they never saw)."""
    kept = backgrounds_kept(user)
    return kept.filter(job__prompt__icontains=search) if search else kept


def workers_alive() -> list[dict[str, Any]]:
    """Model managers that reported in the last two lease periods, wherever they run."""
    since = timezone.now() - timedelta(seconds=2 * settings.WEE_WAA_LEASE_SECONDS)
    return [
        dict(row)
        for row in GenerationWorker.objects.filter(last_seen_at__gte=since)
        .order_by("id")
        .values("id", "model_name", "device", "state", "images_per_second", "restarts", "last_seen_at")
    ]
