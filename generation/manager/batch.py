"""One claimed batch, from the pipeline call to each job's final status.

Jobs of different users share pipeline calls; everything after the call is per job: each
owner hears only of their own job, a cancelled job stops counting at the next step while its
batch-mates go on, and a failure is pinned on the jobs it concerns by splitting the batch.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from generation.events import JobEvent, JobStatus, finished_event, preview_event, progress_event
from generation.manager.control import BatchLimit, JobFlags
from generation.manager.finisher import ResultPool
from generation.manager.outcomes import OOM_MESSAGE as OOM_MESSAGE  # re-exported for older imports
from generation.manager.outcomes import describe_failure, fresh_snapshot, images_payload, succeed_all
from generation.manager.outcomes import is_out_of_memory as is_out_of_memory
from generation.manager.preview import encode_preview, previews_later
from generation.manager.types import (
    JobLost,
    JobSpec,
    JobStore,
    Metrics,
    OwnerId,
    Pipeline,
    PreviewSource,
    Slot,
    StepCallback,
    StoredImage,
)

if TYPE_CHECKING:
    from PIL.Image import Image

logger = logging.getLogger(__name__)


class ShuttingDown(Exception):
    """Raised from the step callback to leave the pipeline promptly when the process stops."""


class RunState(StrEnum):
    ACTIVE = "active"
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"
    LOST = "lost"  # another worker holds the job now
    RELEASED = "released"  # handed back to the queue as the process stops
    STORING = "storing"  # drawn; the result pool is writing it


@dataclass
class JobRun:
    spec: JobSpec
    images: dict[int, Image] = field(default_factory=dict)
    state: RunState = RunState.ACTIVE
    progress: float = 0.0
    previewed: bool = False

    @property
    def active(self) -> bool:
        return self.state == RunState.ACTIVE


@dataclass(frozen=True)
class BatchContext:
    """Everything a batch may use, handed over by the manager: a batch never reaches back
    into the manager, so the two modules do not import each other."""

    store: JobStore
    publish: Callable[[OwnerId, JobEvent], None]
    metrics: Metrics
    flags: JobFlags
    limit: BatchLimit
    pipeline: Pipeline | None
    unavailable_reason: str
    model_name: str
    worker_id: str
    lease_seconds: float
    progress_interval: float
    preview_every: int
    stopping: Callable[[], bool]
    clock: Callable[[], float]
    now: Callable[[], datetime]
    results: ResultPool = field(default_factory=lambda: ResultPool(0))
    # Previews go only to owners with a studio open (a socket in their group).
    watching: Callable[[OwnerId], bool] = lambda owner: True
    # Called once, near the end of the batch's last call: claim the next batch meanwhile.
    prefetch: Callable[[], None] | None = None
    # Jobs of at most this many steps get no previews: the picture comes almost as soon.
    preview_min_steps: int = 3
    # The jobs are finished (stored or failed): the worker stops renewing their leases.
    released: Callable[[list[str]], None] = lambda job_ids: None


def chunked(slots: Sequence[Slot], size: int) -> list[list[Slot]]:
    return [list(slots[start : start + size]) for start in range(0, len(slots), size)]


def pipeline_calls(slots: Sequence[Slot], size: int, windows: Callable[[JobSpec], int]) -> list[list[Slot]]:
    """Calls of at most ``size`` images, each with one prompt length (in encoder windows)."""
    groups: dict[int, list[Slot]] = {}
    for slot in slots:
        groups.setdefault(windows(slot.job), []).append(slot)
    return [call for group in groups.values() for call in chunked(group, size)]


class BatchRun:
    def __init__(self, context: BatchContext, specs: list[JobSpec]) -> None:
        self.ctx = context
        self.jobs = {spec.id: JobRun(spec) for spec in specs}
        self.started = context.clock()
        self.last_write = self.started
        self.previews_on = context.preview_every > 0
        self.preview_futures: dict[str, list[Future[None]]] = {}
        self.pending: deque[list[Slot]] = deque()
        self.prefetched = False

    # -- the whole batch ---------------------------------------------------------------------
    def run(self) -> int:
        """Returns the number of images stored."""
        now = self.ctx.now()
        for run in self.jobs.values():
            self.ctx.publish(run.spec.owner_id, fresh_snapshot(run.spec, JobStatus.RUNNING))
            if run.spec.created_at is not None:
                self.ctx.metrics.job_waited((now - run.spec.created_at).total_seconds())
        if self.ctx.pipeline is None:
            for run in self.jobs.values():
                self.fail(run, self.ctx.unavailable_reason, "model_unavailable")
            return 0
        slots = [Slot(run.spec, index) for run in self.jobs.values() for index in range(run.spec.count)]
        pending = deque(pipeline_calls(slots, self.ctx.limit.current, self.ctx.pipeline.text_windows))
        self.pending = pending
        try:
            while pending:
                self.apply_cancels()
                chunk = [slot for slot in pending.popleft() if self.jobs[slot.job.id].active]
                if chunk:
                    self.draw(chunk, pending)
                    self.apply_cancels()
                    self.store_finished()
        except ShuttingDown:
            for run in self.jobs.values():
                if run.active:
                    logger.info("Stopping: job %s goes back to the queue", run.spec.id)
                    run.state = RunState.RELEASED
                    self.ctx.store.release(run.spec.id, self.ctx.worker_id)
                    self.ctx.publish(run.spec.owner_id, fresh_snapshot(run.spec, JobStatus.QUEUED))
        return self.drawn

    @property
    def drawn(self) -> int:
        """Images drawn for jobs that went to the result pool (stored, or being stored)."""
        return sum(run.spec.count for run in self.jobs.values() if run.state in (RunState.DONE, RunState.STORING))

    def draw(self, chunk: list[Slot], pending: deque[list[Slot]]) -> None:
        started = time.perf_counter()
        try:
            assert self.ctx.pipeline is not None
            images = self.ctx.pipeline.generate(chunk, self.step_callback(chunk))
        except ShuttingDown:
            raise
        except Exception as exc:  # noqa: BLE001 - every pipeline error is pinned on its jobs
            self.split_or_fail(chunk, pending, exc)
            return
        self.ctx.metrics.batch_ran(len(chunk), time.perf_counter() - started)
        self.ctx.limit.succeeded()
        for slot, image in zip(chunk, images, strict=True):
            run = self.jobs[slot.job.id]
            if run.active:
                run.images[slot.index] = image

    def split_or_fail(self, chunk: list[Slot], pending: deque[list[Slot]], exc: Exception) -> None:
        """Out of memory: halve the call and go on smaller. Another error with several jobs
        in the call: retry each job alone, so only the job that breaks the pipeline fails."""
        job_ids = list(dict.fromkeys(slot.job.id for slot in chunk))
        if is_out_of_memory(exc) and len(chunk) > 1:
            half = len(chunk) // 2
            logger.warning("Out of memory at %d images; retrying as %d + %d", len(chunk), half, len(chunk) - half)
            self.ctx.limit.out_of_memory(half)
            self.ctx.metrics.failure("oom_split")
            pending.appendleft(chunk[half:])
            pending.appendleft(chunk[:half])
            return
        if len(job_ids) > 1 and not is_out_of_memory(exc):
            logger.warning("A batch of %d jobs failed (%s); retrying each job alone", len(job_ids), exc)
            for job_id in reversed(job_ids):
                pending.appendleft([slot for slot in chunk if slot.job.id == job_id])
            return
        logger.error("Job(s) %s failed: %s", ", ".join(job_ids), exc, exc_info=exc)
        for job_id in job_ids:
            self.fail(self.jobs[job_id], describe_failure(exc), "oom" if is_out_of_memory(exc) else "pipeline")

    # -- each step ---------------------------------------------------------------------------
    def step_callback(self, chunk: list[Slot]) -> StepCallback:
        per_job: dict[str, list[int]] = {}
        for position, slot in enumerate(chunk):
            per_job.setdefault(slot.job.id, []).append(position)

        def on_step(step: int, total: int, source: PreviewSource) -> bool:
            if self.ctx.stopping():
                raise ShuttingDown
            now = self.ctx.clock()
            if now - self.last_write >= self.ctx.progress_interval:
                self.last_write = now
                self.ctx.results.latest("progress", self.sync_with_store)  # inline when the pool is off
            if not self.prefetched and step >= total - 1 and not self.pending and self.ctx.prefetch is not None:
                self.prefetched = True
                self.ctx.prefetch()
            self.apply_cancels()
            live = [job_id for job_id in per_job if self.jobs[job_id].active]
            if not live:
                return True  # everyone in this call cancelled: stop drawing
            for job_id in live:
                run = self.jobs[job_id]
                done = len(run.images) + len(per_job[job_id]) * step / total
                run.progress = done / run.spec.count
                self.ctx.publish(
                    run.spec.owner_id,
                    progress_event(
                        job_id=job_id,
                        step=round(run.progress * run.spec.steps),
                        total=run.spec.steps,
                        progress=run.progress,
                    ),
                )
            if (
                self.previews_on
                and total >= self.ctx.preview_min_steps
                and (step % self.ctx.preview_every == 0 or step == total)
            ):
                watched = [job_id for job_id in live if self.ctx.watching(self.jobs[job_id].spec.owner_id)]
                if watched:
                    self.send_previews(watched, per_job, source, step, total)
            return False

        return on_step

    def send_previews(
        self, live: list[str], per_job: dict[str, list[int]], source: PreviewSource, step: int, total: int
    ) -> None:
        """Only each job's first candidate is decoded: it is the one the card shows. The device
        work (and a non-blocking copy to the host) happens here; turning it into pictures,
        JPEG-encoding and sending happen on the pool."""
        try:
            pictures = previews_later(source, [per_job[job_id][0] for job_id in live])
        except Exception:
            logger.exception("Previews failed; this batch goes on without them")
            self.previews_on = False
            return
        sent = [(job_id, round(self.jobs[job_id].progress * self.jobs[job_id].spec.steps)) for job_id in live]

        def encode_and_send() -> None:
            try:
                images = pictures()
            except Exception:
                logger.exception("Previews failed; this batch goes on without them")
                self.previews_on = False
                return
            for (job_id, done), image in zip(sent, images, strict=True):
                run = self.jobs[job_id]
                if not (run.active or run.state == RunState.STORING):
                    continue
                data_url, width, height = encode_preview(image)
                self.ctx.publish(
                    run.spec.owner_id,
                    preview_event(
                        job_id=job_id, step=done, total=run.spec.steps, image=data_url, width=width, height=height
                    ),
                )
                if not run.previewed:
                    run.previewed = True
                    self.ctx.metrics.first_preview(self.ctx.clock() - self.started)

        future = self.ctx.results.encode(encode_and_send)
        for job_id in live:
            self.preview_futures.setdefault(job_id, []).append(future)

    def sync_with_store(self) -> None:
        """Throttled: write progress, renew leases, and hear of cancels asked in other processes."""
        active = [run for run in list(self.jobs.values()) if run.active]
        by_progress: dict[float, list[str]] = {}
        for run in active:
            by_progress.setdefault(round(run.progress, 4), []).append(run.spec.id)
        for progress, job_ids in by_progress.items():
            self.ctx.store.record_progress(self.ctx.worker_id, job_ids, progress)
        held = [run.spec.id for run in active]
        cancels, lost = self.ctx.store.heartbeat(self.ctx.worker_id, held, self.ctx.lease_seconds)
        for job_id in cancels:
            self.ctx.flags.cancel(job_id)
        for job_id in lost:
            self.ctx.flags.lose(job_id)

    # -- endings -----------------------------------------------------------------------------
    def apply_cancels(self) -> None:
        """Cancelled jobs end here; lost ones (another worker holds them now) are dropped
        without a word: their new worker tells the owner."""
        for run in self.jobs.values():
            if not run.active:
                continue
            if self.ctx.flags.was_lost(run.spec.id):
                logger.warning("Job %s was taken over by another worker; stopping it here", run.spec.id)
                run.state = RunState.LOST
                run.images.clear()
            elif self.ctx.flags.cancel_asked(run.spec.id):
                run.state = RunState.CANCELLED
                run.images.clear()
                if self.ctx.store.cancel(run.spec.id, self.ctx.worker_id):
                    self.finish(run, JobStatus.CANCELLED)
            else:
                continue
            self.ctx.flags.forget([run.spec.id])

    def store_finished(self) -> None:
        """Hands the jobs whose every picture is drawn to the result pool: one write (files,
        then one transaction) per chunk, the events after it, in the order handed over."""
        ready = [run for run in self.jobs.values() if run.active and len(run.images) >= run.spec.count]
        if not ready:
            return
        for run in ready:
            run.state = RunState.STORING
        finished = [(run, [run.images[index] for index in range(run.spec.count)]) for run in ready]
        previews = [future for run in ready for future in self.preview_futures.pop(run.spec.id, [])]
        self.ctx.results.store(lambda: self._store(finished, previews))

    def _store(self, finished: list[tuple[JobRun, list[Image]]], previews: list[Future[None]]) -> None:
        for future in previews:  # a job's last preview goes out before its result
            future.exception()
        try:
            outcomes = succeed_all(
                self.ctx.store,
                [(run.spec, images) for run, images in finished],
                self.ctx.model_name,
                self.ctx.worker_id,
            )
        except Exception as exc:
            logger.exception("Jobs %s could not be stored", ", ".join(run.spec.id for run, _ in finished))
            outcomes = [exc] * len(finished)
        for (run, _images), outcome in zip(finished, outcomes, strict=True):
            run.images.clear()
            self._settle(run, outcome)
        self.ctx.released([run.spec.id for run, _ in finished])

    def _settle(self, run: JobRun, outcome: list[StoredImage] | BaseException) -> None:
        if isinstance(outcome, JobLost):
            run.state = RunState.LOST
            if self.ctx.store.cancel(run.spec.id, self.ctx.worker_id):  # a cancel asked just now, elsewhere
                run.state = RunState.CANCELLED
                self.finish(run, JobStatus.CANCELLED)
            else:
                logger.warning("Job %s was taken over by another worker; dropping our images", run.spec.id)
        elif isinstance(outcome, BaseException):
            logger.error("Job %s could not be stored: %s", run.spec.id, outcome, exc_info=outcome)
            self.fail(run, f"The pictures could not be saved: {outcome}"[:500], "storage")
        else:
            run.state = RunState.DONE
            self.finish(run, JobStatus.SUCCEEDED, images=outcome)

    def fail(self, run: JobRun, reason: str, kind: str) -> None:
        run.state = RunState.FAILED
        run.images.clear()
        self.ctx.store.fail(run.spec.id, reason, self.ctx.worker_id)
        self.ctx.metrics.failure(kind)
        self.finish(run, JobStatus.FAILED, error=reason)

    def finish(
        self, run: JobRun, status: JobStatus, *, error: str = "", images: list[StoredImage] | None = None
    ) -> None:
        duration = self.ctx.clock() - self.started
        self.ctx.metrics.job_finished(status.value, duration)
        self.ctx.publish(
            run.spec.owner_id,
            finished_event(
                job_id=run.spec.id, status=status, error=error, images=images_payload(images or []), duration=duration
            ),
        )
