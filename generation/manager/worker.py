"""The model manager's worker: claims queued jobs, runs them, stores images, tells owners."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from generation.events import EventType, JobStatus
from generation.manager.types import EventPublisher, JobSpec, JobStore, ModelStatus, Pipeline, StoredImage

logger = logging.getLogger(__name__)

# Progress rows are written at most this often; every step still goes out on the websocket.
PROGRESS_WRITE_INTERVAL = 0.25


class Loader(Protocol):
    model: str

    def load(self) -> tuple[Pipeline, ModelStatus]: ...


class Metrics(Protocol):
    def job_finished(self, status: str, duration: float) -> None: ...

    def model_state(self, status: ModelStatus) -> None: ...


class NullMetrics:
    def job_finished(self, status: str, duration: float) -> None:
        pass

    def model_state(self, status: ModelStatus) -> None:
        pass


class ShuttingDown(Exception):
    """Raised from the step callback to leave the pipeline promptly when the process stops."""


def _images_payload(images: list[StoredImage]) -> list[dict[str, Any]]:
    return [{"id": image.id, "url": image.url, "seed": image.seed} for image in images]


def _fresh_snapshot(spec: JobSpec, status: JobStatus) -> dict[str, Any]:
    """The state of a job that has no progress yet: just claimed, or handed back."""
    return {
        "type": EventType.SNAPSHOT.value,
        "job_id": spec.id,
        "status": status.value,
        "progress": 0.0,
        "step": 0,
        "total": spec.steps,
        "error": "",
        "images": [],
    }


def describe_failure(exc: BaseException) -> str:
    """A reason a person can read in the studio, not a traceback."""
    text = str(exc).strip() or exc.__class__.__name__
    if "out of memory" in text.lower():
        return "The graphics card ran out of memory. Try a smaller size or fewer candidates."
    return f"The model failed while drawing: {text}"[:500]


class ModelManager:
    """One per process. A single worker thread owns the pipeline: diffusers schedulers and
    tokenizers are not thread-safe, and the GPU is best fed by one caller."""

    def __init__(
        self,
        *,
        store: JobStore,
        publisher: EventPublisher,
        loader: Loader,
        metrics: Metrics | None = None,
        max_attempts: int = 3,
        poll_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.loader = loader
        self.metrics = metrics or NullMetrics()
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.status = ModelStatus(state="stopped", requested_model=loader.model)
        self.pipeline: Pipeline | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.status.state = "loading"
        self._thread = threading.Thread(target=self._run, name="wee-waa-model-manager", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self) -> None:
        """A job was queued: stop waiting and look now."""
        self._wake.set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        self.load()
        recovered = False
        while not self._stop.is_set():
            # Cleared before looking, so a job queued while we look still wakes the next wait.
            self._wake.clear()
            try:
                if not recovered:
                    self.recover()
                    recovered = True
                worked = self.run_once()
            except Exception:  # keep the thread alive across database blips
                logger.exception("Model manager loop failed; retrying")
                worked = False
                self._stop.wait(1.0)
            if not worked:
                self._wake.wait(self.poll_seconds)

    # -- steps (tests call these directly) ----------------------------------------------------
    def load(self) -> None:
        self.status = ModelStatus(state="loading", requested_model=self.loader.model)
        started = self.clock()
        try:
            self.pipeline, self.status = self.loader.load()
        except Exception as exc:
            logger.exception("The model could not be loaded")
            self.pipeline = None
            self.status = ModelStatus(state="failed", requested_model=self.loader.model, error=str(exc)[:500])
        else:
            self.status.extra["load_seconds"] = round(self.clock() - started, 3)
            logger.info("Model %s ready on %s (demo=%s)", self.status.model, self.status.device, self.status.demo)
        self.metrics.model_state(self.status)

    def recover(self) -> None:
        """Jobs left ``running`` by a dead process go back to the queue, a bounded number of times."""
        requeued, failed = self.store.requeue_orphans(self.max_attempts)
        if requeued or failed:
            logger.warning("Recovered interrupted jobs: %d re-queued, %d failed", len(requeued), len(failed))

    def run_once(self) -> bool:
        """Claim and run one queued job; False when the queue was empty or we are stopping."""
        if self._stop.is_set():
            return False
        spec = self.store.claim_next()
        if spec is None:
            return False
        self._run_job(spec)
        return True

    def run_until_idle(self, limit: int = 100) -> int:
        done = 0
        while done < limit and self.run_once():
            done += 1
        return done

    # -- one job ---------------------------------------------------------------------------
    def _publish(self, owner_id: Any, event: dict[str, Any]) -> None:
        try:
            self.publisher.publish(owner_id, event)
        except Exception:  # a lost notification must never fail the job: the DB is the truth
            logger.exception("Could not publish %s for job %s", event.get("type"), event.get("job_id"))

    def _run_job(self, spec: JobSpec) -> None:
        started = self.clock()
        self._publish(spec.owner_id, _fresh_snapshot(spec, JobStatus.RUNNING))
        if self.pipeline is None:
            reason = f"The model is not available: {self.status.error or 'it is still loading'}"
            self._finish(spec, JobStatus.FAILED, started, error=reason)
            return
        last_write = [self.clock()]

        def on_step(step: int, total: int) -> None:
            if self._stop.is_set():
                raise ShuttingDown
            progress = step / total
            self._publish(
                spec.owner_id,
                {
                    "type": EventType.PROGRESS.value,
                    "job_id": spec.id,
                    "step": step,
                    "total": total,
                    "progress": progress,
                },
            )
            now = self.clock()
            if now - last_write[0] >= PROGRESS_WRITE_INTERVAL:
                last_write[0] = now
                self.store.record_progress(spec.id, progress)

        try:
            images = self.pipeline.generate(spec, on_step)
            stored = self.store.succeed(spec, images, self.pipeline.name)
        except ShuttingDown:
            logger.info("Stopping: job %s goes back to the queue", spec.id)
            self.store.release(spec.id)
            self._publish(spec.owner_id, _fresh_snapshot(spec, JobStatus.QUEUED))
            return
        except Exception as exc:
            logger.exception("Job %s failed", spec.id)
            self._finish(spec, JobStatus.FAILED, started, error=describe_failure(exc))
            return
        self._finish(spec, JobStatus.SUCCEEDED, started, images=stored)

    def _finish(
        self,
        spec: JobSpec,
        status: JobStatus,
        started: float,
        *,
        error: str = "",
        images: list[StoredImage] | None = None,
    ) -> None:
        if status != JobStatus.SUCCEEDED:
            self.store.fail(spec.id, error)
        duration = self.clock() - started
        self.metrics.job_finished(status.value, duration)
        self._publish(
            spec.owner_id,
            {
                "type": EventType.FINISHED.value,
                "job_id": spec.id,
                "status": status.value,
                "error": error,
                "images": _images_payload(images or []),
                "duration": round(duration, 4),
            },
        )
