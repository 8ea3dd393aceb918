"""Fuller batches: claim the next batch while the current one draws, and wait a moment for a
burst of jobs to land before claiming a batch far below the limit.

A closed loop of users shows why: the moment a batch finishes, every user submits again, and a
worker that claims the instant the first new job lands draws it alone while the rest queue
behind it. Waiting a few milliseconds while jobs are still arriving (``WEE_WAA_CLAIM_WAIT_MS``)
gathers them into one call; the wait ends early when a full batch has arrived or arrivals
stop. Fairness is untouched: the claim itself still takes the fair head of the line.

A prefetched claim holds its jobs with a lease like any claim; if the worker stops before
drawing them they go back to the queue (``release``), without costing an attempt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from generation.manager.types import JobSpec, JobStore

logger = logging.getLogger(__name__)


class Claimer:
    def __init__(
        self,
        store: JobStore,
        worker_id: str,
        lease_seconds: float,
        *,
        wait_seconds: float = 0.0,
        stopping: Callable[[], bool] = lambda: False,
        on_claimed: Callable[[list[JobSpec]], None] = lambda specs: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.worker_id = worker_id
        self.lease_seconds = lease_seconds
        self.wait_seconds = wait_seconds
        self.stopping = stopping
        self.on_claimed = on_claimed
        self.clock = clock
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        self._arrivals = 0
        self._last_arrival = float("-inf")
        self._thread: ThreadPoolExecutor | None = None
        self._prefetched: Future[list[JobSpec]] | None = None
        self.waited = 0.0  # seconds spent gathering, all together (the bench reads it)

    # -- arrivals ----------------------------------------------------------------------------
    def arrived(self) -> None:
        """A job was queued in this process (``ModelManager.notify``)."""
        with self._lock:
            self._arrivals += 1
            self._last_arrival = self.clock()
        self._arrived.set()

    def gather(self, limit: int) -> None:
        """Wait while jobs keep arriving (each within half the wait of the last), fewer than
        ``limit`` have arrived since the last claim, and the wait has not run out."""
        if self.wait_seconds <= 0:
            return
        gap = self.wait_seconds / 2
        started = self.clock()
        deadline = started + self.wait_seconds
        while True:
            self._arrived.clear()
            with self._lock:
                arrivals, last = self._arrivals, self._last_arrival
            now = self.clock()
            if self.stopping() or arrivals >= limit or now >= deadline or now - last > gap:
                break
            self._arrived.wait(max(0.0, min(deadline - now, gap - (now - last))))
        self.waited += self.clock() - started

    # -- claims ------------------------------------------------------------------------------
    def claim(self, limit: int) -> list[JobSpec]:
        self.gather(limit)
        with self._lock:
            self._arrivals = 0
        specs = self.store.claim_batch(self.worker_id, limit, self.lease_seconds)
        if specs:
            self.on_claimed(specs)
        return specs

    def prefetch(self, limit: int) -> None:
        """Start the next claim on the claim thread (the drawing thread goes on drawing)."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="wee-waa-claim")
        if self._prefetched is None:
            self._prefetched = self._thread.submit(self.claim, limit)

    def take(self, limit: int) -> list[JobSpec]:
        """The prefetched batch if there is one (a failed or empty prefetch: claim now)."""
        future, self._prefetched = self._prefetched, None
        if future is not None:
            try:
                specs = future.result()
            except Exception:
                logger.exception("Claiming ahead failed; claiming now")
                specs = []
            if specs:
                return specs
        return self.claim(limit)

    def close(self, close_store: bool = True) -> list[str]:
        """Hands back a prefetched batch that was never drawn; answers its job ids."""
        future, self._prefetched = self._prefetched, None
        released: list[str] = []
        if future is not None:
            try:
                specs = future.result(timeout=30)
            except Exception:
                logger.exception("Claiming ahead failed while stopping")
                specs = []
            for spec in specs:
                try:
                    self.store.release(spec.id, self.worker_id)
                    released.append(spec.id)
                except Exception:
                    logger.exception("Could not hand job %s back to the queue", spec.id)
        if self._thread is not None:
            if close_store:
                self._thread.submit(self.store.close).result(timeout=30)
            self._thread.shutdown(wait=True)
            self._thread = None
        return released
