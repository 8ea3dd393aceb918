"""Who goes next: round-robin across users, and which queued jobs can share a batch.

Pure functions over plain rows, so the order is easy to test and the same code gives the
claim order (worker) and the place in line shown to users (web).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from generation.manager.types import BatchKey, job_work


@dataclass(frozen=True)
class QueuedJob:
    id: str
    owner_id: Hashable
    created_at: datetime
    count: int
    key: BatchKey

    @property
    def work(self) -> float:
        width, height, steps, _guidance = self.key
        return job_work(self.count, width, height, steps)


def fair_order(queued: Iterable[QueuedJob], running: Mapping[Hashable, int]) -> list[QueuedJob]:
    """Each job's round is how many of its owner's jobs are ahead of it, counting the ones
    already drawing; rounds are served in turn, oldest first within a round.

    So a user with one job goes before the second job of a user with twenty, and a user whose
    job is drawing now waits for the others' first turn.
    """
    seen: Counter[Hashable] = Counter(running)
    ranked: list[tuple[int, datetime, str, QueuedJob]] = []
    for job in sorted(queued, key=lambda job: (job.created_at, job.id)):
        ranked.append((seen[job.owner_id], job.created_at, job.id, job))
        seen[job.owner_id] += 1
    ranked.sort(key=lambda item: item[:3])
    return [job for *_, job in ranked]


def choose_batch(order: Sequence[QueuedJob], max_images: int) -> list[QueuedJob]:
    """The first job in line always goes (even alone over the limit: the manager splits its
    images into several calls); later jobs join while they fit and share its key."""
    if not order:
        return []
    head = order[0]
    chosen, images = [head], head.count
    for job in order[1:]:
        if job.key == head.key and images + job.count <= max_images:
            chosen.append(job)
            images += job.count
    return chosen
