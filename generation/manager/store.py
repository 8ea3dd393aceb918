"""The job store backed by Django's ORM: the database is the queue.

Claiming is one conditional UPDATE (``status=queued`` → ``running``) that returns 1 for the
winner and 0 for anyone else, so two workers can never run the same job.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import close_old_connections, connection, transaction
from django.db.models import F
from django.utils import timezone

from generation.events import JobStatus
from generation.manager.types import JobSpec, StoredImage
from generation.models import Background, GenerationJob
from wee_waa.ids import new_public_id

if TYPE_CHECKING:
    from PIL.Image import Image

CLAIM_CANDIDATES = 8


def job_spec(job: GenerationJob) -> JobSpec:
    return JobSpec(
        id=job.id,
        owner_id=job.owner_id,
        prompt=job.full_prompt,
        negative_prompt=job.negative_prompt,
        seed=job.seed,
        steps=job.steps,
        guidance_scale=job.guidance_scale,
        width=job.width,
        height=job.height,
        count=job.count,
    )


def _png_bytes(image: Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class DjangoJobStore:
    def requeue_orphans(self, max_attempts: int) -> tuple[list[str], list[str]]:
        now = timezone.now()
        with transaction.atomic():
            running = GenerationJob.objects.filter(status=JobStatus.RUNNING)
            exhausted = list(running.filter(attempts__gte=max_attempts).values_list("id", flat=True))
            GenerationJob.objects.filter(id__in=exhausted).update(
                status=JobStatus.FAILED,
                finished_at=now,
                error=f"The server stopped {max_attempts} times while drawing this job, so it was given up.",
            )
            requeued = list(running.exclude(id__in=exhausted).values_list("id", flat=True))
            GenerationJob.objects.filter(id__in=requeued).update(status=JobStatus.QUEUED, progress=0.0, started_at=None)
        return requeued, exhausted

    def claim_next(self) -> JobSpec | None:
        if not connection.in_atomic_block:  # never drop a connection mid-transaction
            close_old_connections()  # a long-lived thread must not hold a dead connection
        candidates = (
            GenerationJob.objects.filter(status=JobStatus.QUEUED)
            .order_by("created_at", "id")
            .values_list("id", flat=True)[:CLAIM_CANDIDATES]
        )
        for job_id in list(candidates):
            claimed = GenerationJob.objects.filter(id=job_id, status=JobStatus.QUEUED).update(
                status=JobStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1, progress=0.0
            )
            if claimed == 1:
                return job_spec(GenerationJob.objects.get(id=job_id))
        return None

    def record_progress(self, job_id: str, progress: float) -> None:
        GenerationJob.objects.filter(id=job_id, status=JobStatus.RUNNING).update(progress=progress)

    def succeed(self, spec: JobSpec, images: list[Image], model_name: str) -> list[StoredImage]:
        """Files first, then all rows in one transaction; on any error the files go again,
        so a job never ends half-written."""
        saved: list[tuple[str, str, int, Image]] = []
        try:
            for image, seed in zip(images, spec.seeds(), strict=True):
                image_id = new_public_id()
                name = default_storage.save(f"backgrounds/{spec.id}/{image_id}.png", ContentFile(_png_bytes(image)))
                saved.append((image_id, name, seed, image))
            with transaction.atomic():
                Background.objects.bulk_create(
                    [
                        Background(
                            id=image_id,
                            job_id=spec.id,
                            index=index,
                            seed=seed,
                            image=name,
                            width=image.width,
                            height=image.height,
                        )
                        for index, (image_id, name, seed, image) in enumerate(saved)
                    ]
                )
                GenerationJob.objects.filter(id=spec.id).update(
                    status=JobStatus.SUCCEEDED,
                    progress=1.0,
                    finished_at=timezone.now(),
                    model_name=model_name,
                    error="",
                )
        except BaseException:
            for _image_id, name, _seed, _image in saved:
                default_storage.delete(name)
            raise
        return [StoredImage(id=image_id, url=default_storage.url(name), seed=seed) for image_id, name, seed, _ in saved]

    def release(self, job_id: str) -> None:
        """Hand a job back to the queue when the server stops mid-job; not the job's fault,
        so the attempt does not count."""
        GenerationJob.objects.filter(id=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.QUEUED, progress=0.0, started_at=None, attempts=F("attempts") - 1
        )

    def fail(self, job_id: str, reason: str) -> None:
        GenerationJob.objects.filter(id=job_id).exclude(status__in=JobStatus.final()).update(
            status=JobStatus.FAILED, error=reason, finished_at=timezone.now()
        )
