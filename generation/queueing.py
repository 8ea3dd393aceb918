"""Places in line and ETAs: the order the workers will really start jobs in, read by web processes.

The places come from replaying successive claims over the fair order (the workers' own
``claim_sequence``, batch limit included), so a later job that joins an earlier batch is shown
the earlier place it will really get. A job's ETA divides the work ahead of its batch's end
(what is left of the jobs drawing now, the batches before it and its own batch, in
megapixel-steps) by the rate the live workers last measured; before any worker has drawn,
there is no honest estimate and it says so (None).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Count, F, FloatField, Q, Sum
from django.utils import timezone

from generation.adapters.line import queued_jobs
from generation.adapters.publisher import server_loop
from generation.events import JobStatus, QueuePlace, queue_event
from generation.manager.fairness import claim_sequence
from generation.manager.types import EventPublisher, OwnerId, job_work
from generation.models import GenerationJob, GenerationWorker

logger = logging.getLogger(__name__)

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


# A burst of new jobs is announced once: the first asks, the announcement goes out this much
# later (seconds) and covers every job queued meanwhile (``QueueAnnouncer.soon``).
ANNOUNCE_DELAY = 0.1

# Places are worked out exactly for the head of the line only: queuing a job then costs the
# same with 10 or 5,000 jobs waiting. A job further back gets its place on request, from one
# indexed count of the jobs ahead of it (``Places.get``).
PLACES_WINDOW = 200


def _eta(work: float, rate: float) -> float | None:
    return round(work / rate, 1) if rate > 0 else None


class Places(dict[str, tuple[OwnerId, QueuePlace]]):
    """job id → (owner id, place), in claim order, for the head of the line; ``complete`` is
    False when the queue goes on past it, and ``get`` then works out a later job's place."""

    def __init__(self, complete: bool = True, rate: float = 0.0, running_work: float = 0.0) -> None:
        super().__init__()
        self.complete = complete
        self.rate = rate
        self.running_work = running_work

    def get(self, job_id: str, default: Any = None) -> Any:  # type: ignore[override]
        found = super().get(job_id)
        if found is None and not self.complete:
            found = self._beyond_window(job_id)
        return default if found is None else found

    def _beyond_window(self, job_id: str) -> tuple[OwnerId, QueuePlace] | None:
        job = GenerationJob.objects.filter(id=job_id, status=JobStatus.QUEUED).values_list(
            "owner_id", "fair_tag", "created_at", "count", "width", "height", "steps"
        )
        row = job.first()
        if row is None:
            return None
        owner, tag, created, count, width, height, steps = row
        place = _place_behind(job_id, tag, created, job_work(count, width, height, steps), self.rate, self.running_work)
        self[job_id] = (owner, place)
        return owner, place


def _running_work() -> float:
    """Megapixel-steps left of the jobs drawing now (they go before anything queued)."""
    running = GenerationJob.objects.filter(status=JobStatus.RUNNING).values_list(
        "count", "width", "height", "steps", "progress"
    )
    return sum(
        job_work(count, width, height, steps) * (1 - progress) for count, width, height, steps, progress in running
    )


def _place_behind(
    job_id: str, tag: float, created: datetime, work: float, rate: float, running_work: float
) -> QueuePlace:
    """A place from the jobs ahead in fair order: one count on the (status, fair_tag,
    created_at) index, which never reads a row; their work only when there is a rate to divide
    it by. (Jobs queued in the same microsecond with the same tag count as ahead or not by
    chance: one place either way.)"""
    ahead = GenerationJob.objects.filter(status=JobStatus.QUEUED).filter(
        Q(fair_tag__lt=tag) | Q(fair_tag=tag, created_at__lt=created)
    )
    if rate <= 0:
        return {"job_id": job_id, "position": ahead.count() + 1, "eta_seconds": None}
    totals = ahead.order_by().aggregate(
        jobs=Count("*"), work=Sum(F("count") * F("width") * F("height") * F("steps"), output_field=FloatField())
    )
    total = running_work + (totals["work"] or 0.0) / 1e6 + work
    return {"job_id": job_id, "position": totals["jobs"] + 1, "eta_seconds": _eta(total, rate)}


def place_of(job: GenerationJob) -> Places:
    """The place of one job just queued, for the answer to the request that queued it: one
    count of the jobs ahead of it, so queuing costs the same with 10 or 5,000 jobs waiting.
    The place in fair order; a job that will join an earlier batch is shown that batch's
    place by the announcement that follows (``QueueAnnouncer.soon``). Other jobs' places are
    worked out on request, as for any place past the window."""
    rate = throughput()
    running_work = _running_work() if rate > 0 else 0.0
    places = Places(complete=False, rate=rate, running_work=running_work)
    if job.status == JobStatus.QUEUED:
        work = job_work(job.count, job.width, job.height, job.steps)
        places[job.id] = (job.owner_id, _place_behind(job.id, job.fair_tag, job.created_at, work, rate, running_work))
    return places


def queue_places(rate: float | None = None) -> Places:
    """job id → (owner id, place) for the queued jobs at the head of the line, in the order they
    will start (later ones on request). Two queries: the head of the queue, and what is left of
    the running jobs (drawn before anything queued)."""
    queued = queued_jobs(PLACES_WINDOW + 1)
    if not queued:
        return Places()
    rate = throughput() if rate is None else rate
    work_ahead = _running_work()
    places = Places(complete=len(queued) <= PLACES_WINDOW, rate=rate, running_work=work_ahead)
    queued = queued[:PLACES_WINDOW]
    position = 0
    for batch in claim_sequence(queued, settings.WEE_WAA_MAX_BATCH):
        work_ahead += sum(job.work for job in batch)  # a batch's jobs are drawn together
        eta = _eta(work_ahead, rate)
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
        self._pending = False
        self._thread: ThreadPoolExecutor | None = None

    def soon(self) -> None:
        """Everyone's places, announced shortly on a thread of its own: a request that queues a
        job does not read the line, and a burst of them costs one reading. Where no server loop
        runs (tests, commands, a worker process) it announces at once, as before."""
        loop = server_loop()
        if loop is None or not loop.is_running() or loop.is_closed():
            self()
            return
        with self._lock:
            if self._pending:
                return
            self._pending = True
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="queue-announcer")
            thread = self._thread

        def later() -> None:
            loop.call_later(ANNOUNCE_DELAY, lambda: thread.submit(self._announce_pending))

        loop.call_soon_threadsafe(later)

    def _announce_pending(self) -> None:
        with self._lock:
            self._pending = False  # a job queued from now on asks again
        close_old_connections()  # the thread lives on: the rules a worker loop follows
        try:
            self()
        except Exception:
            logger.exception("Could not announce the places in line")

    def __call__(self, places: dict[str, tuple[OwnerId, QueuePlace]] | None = None) -> None:
        per_owner: dict[OwnerId, list[QueuePlace]] = {}
        places = queue_places() if places is None else places
        for owner, place in places.values():
            per_owner.setdefault(owner, []).append(place)
        # Past the window nobody is told of a change: their places are worked out on request.
        complete = getattr(places, "complete", True)
        with self._lock:
            changed: list[tuple[OwnerId, list[QueuePlace]]] = []
            for owner in set(per_owner) | (set(self._sent) if complete else set()):
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
