"""A claim waits a moment for a burst of arriving jobs, and a prefetched claim is handed back on stop."""

from __future__ import annotations

import threading
import time
from typing import Any

from generation.manager.claims import Claimer


class CountingStore:
    def __init__(self) -> None:
        self.claims: list[float] = []
        self.released: list[str] = []

    def claim_batch(self, worker: str, max_images: int, lease_seconds: float) -> list[Any]:
        self.claims.append(time.monotonic())
        return []

    def release(self, job_id: str, worker: str) -> None:
        self.released.append(job_id)

    def close(self) -> None:
        pass


def test_without_arrivals_a_claim_does_not_wait() -> None:
    claimer = Claimer(CountingStore(), "w", 30, wait_seconds=0.5)  # type: ignore[arg-type]
    started = time.monotonic()
    claimer.claim(16)
    assert time.monotonic() - started < 0.1


def test_a_claim_waits_while_jobs_keep_arriving_and_no_longer_than_the_wait() -> None:
    claimer = Claimer(CountingStore(), "w", 30, wait_seconds=0.3)  # type: ignore[arg-type]
    claimer.arrived()

    def trickle() -> None:
        for _ in range(4):
            time.sleep(0.04)
            claimer.arrived()

    feeder = threading.Thread(target=trickle)
    feeder.start()
    started = time.monotonic()
    claimer.claim(16)
    waited = time.monotonic() - started
    feeder.join()
    assert 0.12 <= waited <= 0.45


def test_a_full_batch_of_arrivals_ends_the_wait_at_once() -> None:
    claimer = Claimer(CountingStore(), "w", 30, wait_seconds=1.0)  # type: ignore[arg-type]
    for _ in range(4):
        claimer.arrived()
    started = time.monotonic()
    claimer.claim(4)
    assert time.monotonic() - started < 0.1


def test_a_prefetched_batch_goes_back_to_the_queue_when_the_worker_stops() -> None:
    class OneBatch(CountingStore):
        def claim_batch(self, worker: str, max_images: int, lease_seconds: float) -> list[Any]:
            class Spec:
                id = "job-1"

            return [Spec()]

    store = OneBatch()
    claimer = Claimer(store, "w", 30)  # type: ignore[arg-type]
    claimer.prefetch(16)

    assert claimer.close() == ["job-1"]
    assert store.released == ["job-1"]
