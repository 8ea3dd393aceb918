"""The model manager: claims fair batches of queued jobs and draws them, one process's GPU owner.

The same class runs inside the web server (the default) and in ``manage.py
generation_worker`` processes on GPU hosts; everything it touches comes in as an argument.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime

from generation.events import JobEvent
from generation.manager.batch import BatchContext, BatchRun, RunState, ShuttingDown
from generation.manager.claims import Claimer
from generation.manager.control import BatchLimit, JobFlags, new_worker_id, utc_now
from generation.manager.finisher import ResultPool
from generation.manager.outcomes import describe_failure
from generation.manager.types import (
    EventPublisher,
    JobSpec,
    JobStore,
    Loader,
    Metrics,
    ModelState,
    ModelStatus,
    NullMetrics,
    OwnerId,
    Pipeline,
    Trainer,
)

__all__ = ["Loader", "ModelManager", "ShuttingDown", "describe_failure", "new_worker_id"]

logger = logging.getLogger(__name__)

# Progress rows (and the cancel check for other processes) at most this often; every step
# still goes out on the websocket.
PROGRESS_WRITE_INTERVAL = 0.25
# After an out-of-memory split the batch limit stays lower; it grows back by one image after
# this many batches in a row drew without running out.
REGROW_AFTER = 50
THROUGHPUT_SMOOTHING = 0.3
# A style training holds the idle device at most this long before looking for jobs again.
TRAINING_SLICE_SECONDS = 2.0


def _smooth(average: float, sample: float) -> float:
    return sample if average == 0.0 else average + THROUGHPUT_SMOOTHING * (sample - average)


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
        now: Callable[[], datetime] = utc_now,
        result_workers: int = 0,
        claim_wait: float = 0.0,
        watching: Callable[[OwnerId], bool] | None = None,
        training: Trainer | None = None,
    ) -> None:
        """``result_workers``: 0 stores results and writes progress on the drawing thread (tests
        that read the database right after ``run_once``); more moves that work, and claiming
        the next batch, to other threads (the server). ``claim_wait``: seconds a claim may wait
        for a burst of arriving jobs. ``watching``: whether an owner has a studio open (previews
        go only to them); None sends them to everyone. ``training``: style trainings, run in
        slices on the drawing thread while the queue is empty."""
        self.store = store
        self.publisher = publisher
        self.loader = loader
        self.metrics: Metrics = metrics or NullMetrics()
        self.max_attempts = max_attempts
        self.poll_seconds = poll_seconds
        self.limit = BatchLimit(max_batch, REGROW_AFTER)
        self.flags = JobFlags()
        self.lease_seconds = lease_seconds
        self.preview_every = preview_every
        self.progress_interval = PROGRESS_WRITE_INTERVAL
        self.announcer = announcer
        self.worker_id = worker_id or new_worker_id()
        self.clock = clock
        self.now = now
        self.status = ModelStatus(state=ModelState.STOPPED, requested_model=loader.model)
        self.pipeline: Pipeline | None = None
        self.restarts = 0
        self.last_error = ""
        self.images_per_second = 0.0
        self.work_per_second = 0.0
        self.result_workers = result_workers
        self.watching = watching
        self.training = training
        self.results = ResultPool(0)
        self.claimer = Claimer(
            store, self.worker_id, lease_seconds, wait_seconds=claim_wait,
            stopping=lambda: self.stopping, on_claimed=self._hold,
        )  # fmt: skip
        self._held: set[str] = set()
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
        if self.result_workers > 0 and self.results.inline:
            self.results = ResultPool(self.result_workers, on_close=self.store.close)
        self._start_supervisor()
        self._beat_thread = threading.Thread(target=self._beat, name="wee-waa-heartbeat", daemon=True)
        self._beat_thread.start()

    def _start_supervisor(self) -> None:
        self.status.state = ModelState.LOADING
        self._thread = threading.Thread(target=self._supervise, name="wee-waa-model-manager", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the threads to stop without waiting: a job being drawn goes back to the queue at
        its next step. Safe from any thread, the drawing one included."""
        self._stop.set()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        for thread in (self._thread, self._beat_thread):
            if thread is not None:
                thread.join(timeout)
        if self.training is not None:
            self.training.stop()  # its lease lapses; the next worker resumes its last checkpoint
        self._unhold(self.claimer.close(close_store=not self.results.inline))
        self.results.close(timeout)  # what was drawn is still stored, and its events go out
        self.results = ResultPool(0)
        flush = getattr(self.publisher, "flush", None)
        if callable(flush):  # the last events (e.g. "back in the queue") still go out
            flush()

    def notify(self) -> None:
        """A job was queued: stop waiting and look now (a claim may still gather a burst)."""
        self.claimer.arrived()
        self._wake.set()

    def cancel(self, job_id: str) -> None:
        """Its owner cancelled a job this process may be drawing: drop it at the next step."""
        self.flags.cancel(job_id)

    def lose(self, job_id: str) -> None:
        """The job's lease lapsed (we stalled) and another worker holds it now: stop drawing it."""
        self.flags.lose(job_id)

    @property
    def batch_limit(self) -> int:
        return self.limit.current

    @batch_limit.setter
    def batch_limit(self, images: int) -> None:
        self.limit.current = images

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
        self.store.close()

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
            if not worked and not self._train_a_little():
                self._wake.wait(self.poll_seconds)

    def _train_a_little(self) -> bool:
        """The queue is empty: a style training may use the device, a slice at a time, and it
        gives the device back after one step once a job is queued here (a worker in its own
        process hears of new jobs at its next claim, at most one slice later)."""
        if self.training is None or self.pipeline is None or self.stopping:
            return False
        try:
            return self.training.step_some(self.pipeline, TRAINING_SLICE_SECONDS, self._wake.is_set)
        except Exception:
            logger.exception("A style training slice failed")
            return False

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
        self.store.close()

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
        self.status = ModelStatus(state=ModelState.LOADING, requested_model=self.loader.model)
        started = self.clock()
        try:
            self.pipeline, self.status = self.loader.load()
        except Exception as exc:
            logger.exception("The model could not be loaded")
            self.pipeline = None
            self.status = ModelStatus(state=ModelState.FAILED, requested_model=self.loader.model, error=str(exc)[:500])
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
        specs = self.claimer.take(self.batch_limit)
        if not specs:
            return False
        self.results.store(self._announce)  # everyone behind this batch moved up
        started = self.clock()
        batch = BatchRun(self._batch_context(), specs)
        try:
            images = batch.run()
        except BaseException:
            self._abandon_held()  # before the supervisor restarts us: their lease is still fresh
            raise
        # Jobs still being stored stay held (their leases renewed) until the pool is done.
        self._unhold([job_id for job_id, run in batch.jobs.items() if run.state != RunState.STORING])
        self.flags.forget(spec.id for spec in specs)
        self._measure(images, sum(spec.work for spec in specs), self.clock() - started)
        return True

    def run_until_idle(self, limit: int = 100) -> int:
        done = 0
        while done < limit and self.run_once():
            done += 1
        self.results.drain()
        return done

    def _hold(self, specs: list[JobSpec]) -> None:
        with self._lock:
            self._held.update(spec.id for spec in specs)

    def _unhold(self, job_ids: list[str]) -> None:
        with self._lock:
            self._held.difference_update(job_ids)

    def _batch_context(self) -> BatchContext:
        return BatchContext(
            store=self.store,
            publish=self.publish,
            metrics=self.metrics,
            flags=self.flags,
            limit=self.limit,
            pipeline=self.pipeline,
            unavailable_reason=f"The model is not available: {self.status.error or 'it is still loading'}",
            model_name=self.model_name,
            worker_id=self.worker_id,
            lease_seconds=self.lease_seconds,
            progress_interval=self.progress_interval,
            preview_every=self.preview_every,
            stopping=lambda: self.stopping,
            clock=self.clock,
            now=self.now,
            results=self.results,
            watching=self.watching or (lambda owner: True),
            prefetch=None if self.results.inline else (lambda: self.claimer.prefetch(self.batch_limit)),
            released=self._unhold,
        )

    def publish(self, owner_id: OwnerId, event: JobEvent) -> None:
        try:
            self.publisher.publish(owner_id, event)
        except Exception:  # a lost notification must never fail the job: the DB is the truth
            logger.exception("Could not publish %s for job %s", event.get("type"), event.get("job_id"))

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
            held, self._held = list(self._held), set()
        if held:
            try:
                self.store.abandon(self.worker_id, held, self.max_attempts)
            except Exception:
                logger.exception("Could not hand back jobs %s", held)
