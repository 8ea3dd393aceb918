"""Places in line and ETAs: the order the workers will really start jobs in, read by web processes.

The places come from replaying successive claims over the fair order (the workers' own
``claim_sequence``, batch limit included), so a later job that joins an earlier batch is shown
the earlier place it will really get. A job's ETA divides the work ahead of its batch's end
(what is left of the jobs drawing now, the batches before it and its own batch, in
megapixel-steps) by the rate the live workers last measured; before any worker has drawn,
there is no honest estimate and it says so (None).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from generation.adapters.store import queued_jobs
from generation.events import JobStatus, QueuePlace, queue_event
from generation.manager.fairness import claim_sequence
from generation.manager.types import EventPublisher, OwnerId, job_work
from generation.models import GenerationJob, GenerationWorker

# The workers' rate changes slowly and is only an estimate: read it at most this often.
RATE_READ_EVERY = 2.0
_rate_cache: tuple[float, float] = (-RATE_READ_EVERY, 0.0)  # (monotonic time read, rate)


def throughput() -> float:
    """Megapixel-steps per second of the workers seen recently, all together."""
    global _rate_cache
    read_at, rate = _rate_cache
    if time.monotonic() - read_at < RATE_READ_EVERY:
        return rate
    since = timezone.now() - timedelta(seconds=2 * settings.WEE_WAA_LEASE_SECONDS)
    total = GenerationWorker.objects.filter(last_seen_at__gte=since).aggregate(rate=Sum("work_per_second"))["rate"]
    _rate_cache = (time.monotonic(), float(total or 0.0))
    return _rate_cache[1]


Places = dict[str, tuple[OwnerId, QueuePlace]]  # job id → (owner id, place), in claim order


def queue_places(rate: float | None = None) -> Places:
    """job id → (owner id, place) for every queued job, in the order they will start. Two
    queries: the queue, and what is left of the running jobs (drawn before anything queued)."""
    queued = queued_jobs()
    if not queued:
        return {}
    rate = throughput() if rate is None else rate
    running = GenerationJob.objects.filter(status=JobStatus.RUNNING).values_list(
        "count", "width", "height", "steps", "progress"
    )
    work_ahead = sum(
        job_work(count, width, height, steps) * (1 - progress) for count, width, height, steps, progress in running
    )
    places: dict[str, tuple[OwnerId, QueuePlace]] = {}
    position = 0
    for batch in claim_sequence(queued, settings.WEE_WAA_MAX_BATCH):
        work_ahead += sum(job.work for job in batch)  # a batch's jobs are drawn together
        eta = round(work_ahead / rate, 1) if rate > 0 else None
        for job in batch:
            position += 1
            places[job.id] = (job.owner_id, {"job_id": job.id, "position": position, "eta_seconds": eta})
    return places


class QueueAnnouncer:
    """Sends each user their queued jobs' places whenever they change (not on every call):
    a claim moves everyone up, a new user's first job can jump ahead of a heavy user's tenth."""

    def __init__(self, publisher: EventPublisher) -> None:
        self.publisher = publisher
        self._sent: dict[OwnerId, tuple[tuple[str, int, int | None], ...]] = {}
        self._lock = threading.Lock()

    def __call__(self, places: dict[str, tuple[OwnerId, QueuePlace]] | None = None) -> None:
        per_owner: dict[OwnerId, list[QueuePlace]] = {}
        for owner, place in (queue_places() if places is None else places).values():
            per_owner.setdefault(owner, []).append(place)
        with self._lock:
            changed: list[tuple[OwnerId, list[QueuePlace]]] = []
            for owner in set(per_owner) | set(self._sent):
                mine = per_owner.get(owner, [])
                signature = tuple(
                    (
                        place["job_id"],
                        place["position"],
                        None if place["eta_seconds"] is None else round(place["eta_seconds"]),
                    )
                    for place in mine
                )
                if self._sent.get(owner) == signature:
                    continue
                if mine:
                    self._sent[owner] = signature
                else:
                    self._sent.pop(owner, None)
                changed.append((owner, mine))
        for owner, mine in changed:
            self.publisher.publish(owner, queue_event(jobs=mine))
