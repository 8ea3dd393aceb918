"""The model manager: claims fair batches of queued jobs and draws them, one process's GPU owner.

The same class runs inside the web server (the default) and in ``manage.py
generation_worker`` processes on GPU hosts; everything it touches comes in as an argument.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from generation.events import JobEvent
from generation.manager.batch import BatchRun, ShuttingDown, describe_failure
from generation.manager.types import EventPublisher, JobStore, ModelStatus, Pipeline

__all__ = ["Loader", "Metrics", "ModelManager", "NullMetrics", "ShuttingDown", "describe_failure", "new_worker_id"]

logger = logging.getLogger(__name__)

# Progress rows (and the cancel check for other processes) at most this often; every step
# still goes out on the websocket.
PROGRESS_WRITE_INTERVAL = 0.25
# After an out-of-memory split the batch limit stays lower; it grows back by one image after
# this many batches in a row drew without running out.
REGROW_AFTER = 50
THROUGHPUT_SMOOTHING = 0.3


class Loader(Protocol):
    model: str

    def load(self) -> tuple[Pipeline, ModelStatus]: ...


class Metrics(Protocol):
    def job_finished(self, status: str, duration: float) -> None: ...

    def job_waited(self, seconds: float) -> None: ...

    def batch_ran(self, images: int, seconds: float) -> None: ...

    def first_preview(self, seconds: float) -> None: ...

    def failure(self, reason: str) -> None: ...

    def throughput(self, images_per_second: float) -> None: ...

    def manager_state(self, alive: bool, restarted: bool = False) -> None: ...

    def model_state(self, status: ModelStatus) -> None: ...


class NullMetrics:
    def job_finished(self, status: str, duration: float) -> None:
        pass

    def job_waited(self, seconds: float) -> None:
        pass

    def batch_ran(self, images: int, seconds: float) -> None:
        pass

    def first_preview(self, seconds: float) -> None:
        pass

    def failure(self, reason: str) -> None:
        pass

    def throughput(self, images_per_second: float) -> None:
        pass

    def manager_state(self, alive: bool, restarted: bool = False) -> None:
        pass

    def model_state(self, status: ModelStatus) -> None:
        pass


def _smooth(average: float, sample: float) -> float:
    return sample if average == 0.0 else average + THROUGHPUT_SMOOTHING * (sample - average)


def new_worker_id() -> str:
    """``host:pid:nonce``: readable in admin, and lets a restarted process on the same host
    see at once that the previous one is gone."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class ModelManager:
    """One per process. A single worker thread owns the pipeline: diffusers schedulers and
    tokenizers are not thread-safe, and the GPU is best fed by one caller with big batches.
    A second thread only renews leases, so a long step never looks like a dead worker."""

    def __init__(
        self,
        *,
        store: JobStore,
        publisher: EventPublisher,
        loader: Loader,
        metrics: Metrics | None = None,
        max_attempts: int = 3,
        poll_seconds: float = 1.0,
        max_batch: int = 16,
        lease_seconds: float = 30.0,
        preview_every: int = 1,
        announcer: Callable[[], None] | None = None,
        worker_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.publisher = publisher
        self.loader = loader
        self.metrics: Metrics = metrics or NullMetrics()
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self.max_batch = max_batch
        self.batch_limit = max_batch
        self.lease_seconds = lease_seconds
        self.preview_every = preview_every
        self.progress_interval = PROGRESS_WRITE_INTERVAL
        self.announcer = announcer
        self.worker_id = worker_id or new_worker_id()
        self.clock = clock
        self.status = ModelStatus(state="stopped", requested_model=loader.model)
        self.pipeline: Pipeline | None = None
        self.restarts = 0
        self.last_error = ""
        self.images_per_second = 0.0
        self.work_per_second = 0.0
        self._good_batches = 0
        self._cancels: set[str] = set()
        self._lost: set[str] = set()
        self._held: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._beat_thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self.alive:
            return
        self._stop.clear()
        self._start_supervisor()
        self._beat_thread = threading.Thread(target=self._beat, name="wee-waa-heartbeat", daemon=True)
        self._beat_thread.start()

    def _start_supervisor(self) -> None:
        self.status.state = "loading"
        self._thread = threading.Thread(target=self._supervise, name="wee-waa-model-manager", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in (self._thread, self._beat_thread):
            if thread is not None:
                thread.join(timeout)
        flush = getattr(self.publisher, "flush", None)
        if callable(flush):  # the last events (e.g. "back in the queue") still go out
            flush()

    def notify(self) -> None:
        """A job was queued: stop waiting and look now."""
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        """Its owner cancelled a job this process may be drawing: drop it at the next step."""
        with self._lock:
            self._cancels.add(job_id)

    def lose(self, job_id: str) -> None:
        """The job's lease lapsed (we stalled) and another worker holds it now: stop drawing it."""
        with self._lock:
            self._lost.add(job_id)

    def cancel_asked(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._cancels

    def was_lost(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._lost

    def cancel_done(self, job_id: str) -> None:
        with self._lock:
            self._cancels.discard(job_id)
            self._lost.discard(job_id)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def model_name(self) -> str:
        return self.pipeline.name if self.pipeline is not None else ""

    def ensure_running(self) -> bool:
        """The watchdog, run by the heartbeat thread: a supervisor thread that died (a failure
        outside its own loop, e.g. while loading) is started again. It once ran on each GET of
        ``/healthz``, so anyone could restart the manager; now the manager looks after itself."""
        if self._thread is None or self.stopping or self.alive:
            return False
        logger.error("The model manager thread had died; starting it again")
        self.restarts += 1
        self.metrics.manager_state(alive=True, restarted=True)
        self._start_supervisor()
        return True

    def _supervise(self) -> None:
        """Runs the loop; if the loop itself dies, hand back its jobs and run it again."""
        self.load()
        self.metrics.manager_state(alive=True)
        try:
            self.report()  # visible in /healthz and to ETAs now, not one heartbeat later
        except Exception:
            logger.exception("Could not register this worker")
        backoff = 1.0
        while not self.stopping:
            try:
                self._loop()
            except BaseException as exc:
                self.restarts += 1
                self.last_error = f"{exc.__class__.__name__}: {exc}"[:500]
                logger.exception("The model manager loop died; restarting it (restart %d)", self.restarts)
                self.metrics.manager_state(alive=True, restarted=True)
                self._abandon_held()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
        self.metrics.manager_state(alive=False)
        self._close_connection()

    def _loop(self) -> None:
        recovered = False
        while not self.stopping:
            # Cleared before looking, so a job queued while we look still wakes the next wait.
            self._wake.clear()
            try:
                if not recovered:
                    self.recover()
                    recovered = True
                worked = self.run_once()
            except Exception:  # keep going across database blips
                logger.exception("Model manager loop failed; retrying")
                worked = False
                self._stop.wait(1.0)
            if not worked:
                self._wake.wait(self.poll_seconds)

    def _beat(self) -> None:
        """Renew leases, tell the database we are alive, re-queue the jobs of dead workers, and
        start the supervisor thread again if it died."""
        interval = max(0.2, self.lease_seconds / 3)
        while not self._stop.wait(interval):
            try:
                self.ensure_running()
                with self._lock:
                    held = list(self._held)
                cancels, lost = self.store.heartbeat(self.worker_id, held, self.lease_seconds)
                for job_id in cancels:
                    self.cancel(job_id)
                for job_id in lost:
                    self.lose(job_id)
                self.report()
                requeued, _failed = self.store.recover(self.max_attempts)
                if requeued:
                    self.notify()
                    self._announce()
            except Exception:
                logger.exception("Heartbeat failed; trying again")
        try:
            self.store.forget_worker(self.worker_id)
        except Exception:
            logger.exception("Could not remove this worker's row")
        self._close_connection()

    @staticmethod
    def _close_connection() -> None:
        from django.db import connection

        connection.close()

    def report(self) -> None:
        self.store.report_worker(
            self.worker_id,
            {
                "model_name": self.status.model or self.status.requested_model,
                "device": self.status.device,
                "state": self.status.state,
                "images_per_second": self.images_per_second,
                "work_per_second": self.work_per_second,
                "restarts": self.restarts,
                "last_error": self.last_error,
            },
        )

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
        requeued, failed = self.store.recover(self.max_attempts)
        if requeued or failed:
            logger.warning("Recovered interrupted jobs: %d re-queued, %d failed", len(requeued), len(failed))

    def run_once(self) -> bool:
        """Claim and draw one batch; False when the queue was empty or we are stopping."""
        if self.stopping:
            return False
        specs = self.store.claim_batch(self.worker_id, self.batch_limit, self.lease_seconds)
        if not specs:
            return False
        with self._lock:
            self._held = [spec.id for spec in specs]
        self._announce()  # everyone behind this batch moved up
        started = self.clock()
        try:
            images = BatchRun(self, specs).run()
        except BaseException:
            self._abandon_held()  # before the supervisor restarts us: their lease is still fresh
            raise
        with self._lock:
            self._held = []
            batch = {spec.id for spec in specs}
            self._cancels -= batch
            self._lost -= batch
        self._measure(images, sum(spec.work for spec in specs), self.clock() - started)
        return True

    def run_until_idle(self, limit: int = 100) -> int:
        done = 0
        while done < limit and self.run_once():
            done += 1
        return done

    # -- what batches report back -------------------------------------------------------------
    def publish(self, owner_id: Any, event: JobEvent) -> None:
        try:
            self.publisher.publish(owner_id, event)
        except Exception:  # a lost notification must never fail the job: the DB is the truth
            logger.exception("Could not publish %s for job %s", event.get("type"), event.get("job_id"))

    def out_of_memory(self, images: int) -> None:
        self.batch_limit = max(1, min(self.batch_limit, images))
        self._good_batches = 0
        self.metrics.failure("oom_split")

    def batch_succeeded(self) -> None:
        self._good_batches += 1
        if self.batch_limit < self.max_batch and self._good_batches >= REGROW_AFTER:
            self.batch_limit += 1
            self._good_batches = 0

    def _measure(self, images: int, work: float, seconds: float) -> None:
        if images <= 0 or seconds <= 0:
            return
        self.images_per_second = _smooth(self.images_per_second, images / seconds)
        self.work_per_second = _smooth(self.work_per_second, work / seconds)
        self.metrics.throughput(self.images_per_second)

    def _announce(self) -> None:
        if self.announcer is None:
            return
        try:
            self.announcer()
        except Exception:
            logger.exception("Could not announce queue positions")

    def _abandon_held(self) -> None:
        with self._lock:
            held, self._held = list(self._held), []
        if held:
            try:
                self.store.abandon(self.worker_id, held, self.max_attempts)
            except Exception:
                logger.exception("Could not hand back jobs %s", held)
