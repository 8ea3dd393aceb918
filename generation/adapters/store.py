"""The job store backed by Django's ORM: the database is the queue.

Claiming takes a fair batch of queued rows: on PostgreSQL the rows are locked with
``SELECT … FOR UPDATE SKIP LOCKED`` so two workers never take the same job and never wait on
each other; on SQLite the claim runs in an IMMEDIATE transaction, which serialises writers.
Either way the final UPDATE is conditional on ``status=queued``. A claimed job carries the
worker's id and a lease; every write after that checks the worker still holds the job.
"""

from __future__ import annotations

import io
import logging
import os
import socket
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from gallery.media import media_url
from generation.adapters.line import next_fair_tags as next_fair_tags  # re-exported for older imports
from generation.adapters.line import queued_jobs
from generation.adapters.specs import job_spec
from generation.events import JobStatus
from generation.manager.fairness import claim_sequence
from generation.manager.types import JobLost, JobSpec, StoredImage
from generation.models import Background, GenerationJob, GenerationWorker
from generation.webhooks import webhook_enqueue
from wee_waa.ids import new_public_id

if TYPE_CHECKING:
    from PIL.Image import Image

logger = logging.getLogger(__name__)

CLAIM_TRIES = 3
WORKER_ROWS_KEPT = timedelta(days=1)


def _png_bytes(image: Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _delete(saved: Sequence[tuple[str, str, int, Image]]) -> None:
    for _image_id, name, _seed, _image in saved:
        default_storage.delete(name)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_local_worker(worker: str) -> bool:
    """A worker id is ``host:pid:nonce``; one on this host whose process is gone is dead now,
    no need to wait for its lease to run out (a quick restart recovers at once)."""
    host, _, rest = worker.partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid))


class DjangoJobStore:
    def recover(self, max_attempts: int) -> tuple[list[str], list[str]]:
        """Running jobs whose worker is gone go back to the queue, a bounded number of times;
        a cancel asked for meanwhile is honoured."""
        now = timezone.now()
        running = GenerationJob.objects.filter(status=JobStatus.RUNNING)
        expired = running.filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        orphans = list(expired.values_list("id", "worker", "attempts", "cancel_requested"))
        held = running.exclude(id__in=[row[0] for row in orphans]).exclude(worker="")
        orphans += [
            row for row in held.values_list("id", "worker", "attempts", "cancel_requested") if dead_local_worker(row[1])
        ]
        requeued, failed = [], []
        for job_id, worker, attempts, cancel_requested in orphans:
            mine = GenerationJob.objects.filter(id=job_id, status=JobStatus.RUNNING, worker=worker)
            if cancel_requested:
                with transaction.atomic():
                    if mine.update(status=JobStatus.CANCELLED, finished_at=now, lease_expires_at=None):
                        webhook_enqueue(job_id)
            elif attempts >= max_attempts:
                with transaction.atomic():
                    if mine.update(
                        status=JobStatus.FAILED,
                        finished_at=now,
                        lease_expires_at=None,
                        error=f"The server stopped {max_attempts} times while drawing this job, so it was given up.",
                    ):
                        webhook_enqueue(job_id)
                        failed.append(job_id)
            elif mine.update(status=JobStatus.QUEUED, progress=0.0, started_at=None, worker="", lease_expires_at=None):
                requeued.append(job_id)
        return requeued, failed

    def claim_batch(self, worker: str, max_images: int, lease_seconds: float) -> list[JobSpec]:
        if not connection.in_atomic_block:  # never drop a connection mid-transaction
            close_old_connections()  # a long-lived thread must not hold a dead connection
        skip: set[str] = set()
        for _ in range(CLAIM_TRIES):
            with transaction.atomic():
                queued = [job for job in queued_jobs() if job.id not in skip]
                if not queued:
                    return []
                wanted = [job.id for job in next(claim_sequence(queued, max_images))]
                locked = set(
                    GenerationJob.objects.select_for_update(skip_locked=True)
                    .filter(id__in=wanted, status=JobStatus.QUEUED)
                    .values_list("id", flat=True)
                )
                if locked:
                    now = timezone.now()
                    GenerationJob.objects.filter(id__in=locked, status=JobStatus.QUEUED).update(
                        status=JobStatus.RUNNING,
                        started_at=now,
                        attempts=F("attempts") + 1,
                        progress=0.0,
                        worker=worker,
                        lease_expires_at=now + timedelta(seconds=lease_seconds),
                    )
                    claimed = GenerationJob.objects.filter(id__in=locked, worker=worker).select_related("source_image")
                    rows = {job.id: job for job in claimed}
            if locked:  # an edit's pictures are read after the commit, not while rows are locked
                return self._specs([rows[job_id] for job_id in wanted if job_id in rows], worker)
            skip.update(wanted)  # another worker holds them right now: look past them
        return []

    def _specs(self, rows: list[GenerationJob], worker: str) -> list[JobSpec]:
        """A job whose stored pictures cannot be read fails alone, with a reason."""
        specs = []
        for row in rows:
            try:
                specs.append(job_spec(row))
            except Exception:
                logger.exception("Job %s: its source picture, mask or adapter could not be read", row.id)
                self.fail(row.id, "The picture to edit (or the style's adapter) could not be read.", worker)
        return specs

    def heartbeat(self, worker: str, job_ids: Sequence[str], lease_seconds: float) -> tuple[set[str], set[str]]:
        """Renew our leases. Answers (cancel, lost): our jobs whose owners asked to cancel, and
        jobs that are no longer ours (a stall let the lease run out and another worker took
        them), which we must stop drawing and never write to again."""
        if not job_ids:
            return set(), set()
        mine = GenerationJob.objects.filter(id__in=job_ids, worker=worker, status=JobStatus.RUNNING)
        mine.update(lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds))
        held = dict(mine.values_list("id", "cancel_requested"))
        return {job_id for job_id, cancel in held.items() if cancel}, set(job_ids) - set(held)

    def record_progress(self, worker: str, job_ids: Sequence[str], progress: float) -> None:
        GenerationJob.objects.filter(id__in=job_ids, status=JobStatus.RUNNING, worker=worker).update(progress=progress)

    def succeed(self, spec: JobSpec, images: list[Image], model_name: str, worker: str) -> list[StoredImage]:
        """One job's ``succeed_batch``: files first, then the rows in one transaction; on any
        error the files go again, so a job never ends half-written."""
        [outcome] = self.succeed_batch([(spec, images)], model_name, worker)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def succeed_batch(
        self, finished: Sequence[tuple[JobSpec, list[Image]]], model_name: str, worker: str
    ) -> list[list[StoredImage] | BaseException]:
        """``succeed`` for several jobs with one transaction: each job's files first (a job whose
        files cannot be written fails alone and leaves none behind), then every row at once.
        Answers per job: its stored images, ``JobLost`` (no longer ours, or a cancel was asked)
        or the error that stopped it; on a database error every job gets it and no file stays."""
        outcomes: list[list[StoredImage] | BaseException] = []
        written: list[tuple[JobSpec, list[tuple[str, str, int, Image]]]] = []
        for spec, images in finished:
            saved: list[tuple[str, str, int, Image]] = []
            try:
                for image, seed in zip(images, spec.seeds(), strict=True):
                    image_id = new_public_id()
                    name = default_storage.save(f"backgrounds/{spec.id}/{image_id}.png", ContentFile(_png_bytes(image)))
                    saved.append((image_id, name, seed, image))
            except Exception as exc:  # noqa: BLE001 - pinned on this job alone, answered to the caller
                _delete(saved)
                outcomes.append(exc)
                continue
            outcomes.append([])
            written.append((spec, saved))
        try:
            lost = self._commit(written, model_name, worker)
        except BaseException:
            for _spec, saved in written:
                _delete(saved)
            raise
        by_id = {spec.id: saved for spec, saved in written}
        for position, (spec, _images) in enumerate(finished):
            if isinstance(outcomes[position], BaseException):
                continue
            saved = by_id[spec.id]
            if spec.id in lost:
                _delete(saved)
                outcomes[position] = JobLost(spec.id)
            else:
                outcomes[position] = [StoredImage(id=i, url=media_url(name), seed=seed) for i, name, seed, _ in saved]
        return outcomes

    @staticmethod
    def _commit(
        written: list[tuple[JobSpec, list[tuple[str, str, int, Image]]]], model_name: str, worker: str
    ) -> set[str]:
        """One transaction for the batch; answers the jobs no longer ours (nothing written for them)."""
        lost: set[str] = set()
        if not written:
            return lost
        now = timezone.now()
        with transaction.atomic():
            rows: list[Background] = []
            for spec, saved in written:
                done = GenerationJob.objects.filter(
                    id=spec.id, status=JobStatus.RUNNING, worker=worker, cancel_requested=False
                ).update(
                    status=JobStatus.SUCCEEDED,
                    progress=1.0,
                    finished_at=now,
                    model_name=model_name,
                    error="",
                    lease_expires_at=None,
                )
                if done != 1:
                    lost.add(spec.id)
                    continue
                rows += [
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
            Background.objects.bulk_create(rows)
            for spec, _saved in written:  # after the rows: a webhook's payload lists the images
                if spec.id not in lost:
                    webhook_enqueue(spec.id)
        return lost

    def fail(self, job_id: str, reason: str, worker: str | None = None) -> None:
        """``worker`` given: only while that worker still holds the job."""
        jobs = GenerationJob.objects.filter(id=job_id).exclude(status__in=JobStatus.final())
        if worker is not None:
            jobs = jobs.filter(worker=worker)
        with transaction.atomic():
            if jobs.update(status=JobStatus.FAILED, error=reason, finished_at=timezone.now(), lease_expires_at=None):
                webhook_enqueue(job_id)

    def cancel(self, job_id: str, worker: str) -> bool:
        """A job we hold whose owner asked to cancel: ends ``cancelled`` with nothing stored."""
        mine = GenerationJob.objects.filter(id=job_id, status=JobStatus.RUNNING, worker=worker, cancel_requested=True)
        with transaction.atomic():
            ended = mine.update(status=JobStatus.CANCELLED, finished_at=timezone.now(), lease_expires_at=None, error="")
            if ended:
                webhook_enqueue(job_id)
        return bool(ended)

    def release(self, job_id: str, worker: str) -> None:
        """Hand a job we hold back to the queue when the process stops mid-job; not the job's
        fault, so the attempt does not count."""
        GenerationJob.objects.filter(id=job_id, status=JobStatus.RUNNING, worker=worker).update(
            status=JobStatus.QUEUED,
            progress=0.0,
            started_at=None,
            attempts=F("attempts") - 1,
            worker="",
            lease_expires_at=None,
        )

    def abandon(self, worker: str, job_ids: Sequence[str], max_attempts: int) -> None:
        """Our own loop crashed while holding these: re-queue them now rather than wait for a
        lease that our still-running heartbeat would keep renewing."""
        GenerationJob.objects.filter(id__in=job_ids, status=JobStatus.RUNNING, worker=worker).update(
            lease_expires_at=None
        )
        self.recover(max_attempts)

    def report_worker(self, worker: str, fields: dict[str, Any]) -> None:
        """Upsert our row; rows of workers silent for a day are history and go."""
        GenerationWorker.objects.filter(last_seen_at__lt=timezone.now() - WORKER_ROWS_KEPT).delete()
        host, _, rest = worker.partition(":")
        GenerationWorker.objects.update_or_create(
            id=worker,
            defaults={
                **fields,
                "hostname": host,
                "pid": int(rest.partition(":")[0] or 0),
                "last_seen_at": timezone.now(),
            },
        )

    def forget_worker(self, worker: str) -> None:
        GenerationWorker.objects.filter(id=worker).delete()

    def close(self) -> None:
        """A manager thread is ending: its database connection goes with it."""
        connection.close()
