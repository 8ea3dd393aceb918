"""Who goes next: start-time fair queuing across users, and which queued jobs share a batch.

Each job gets a virtual *start tag* when it is queued and keeps it (stored on the row):

    start  = max(virtual now, the owner's last finish tag)
    finish = start + the job's work (megapixel-steps)

and jobs are served in start-tag order. A user's tags advance by the work they asked for, so
jobs that finish never reset anyone's turn, and a user whose jobs are four times bigger gets
about a quarter as many jobs drawn. "Virtual now" is the smallest start tag still unfinished
(the head of the line), so a newcomer starts level with the head: never behind all of a heavy
user's queue, never ahead of work already promised to others. When nothing is unfinished it
is the largest finish tag ever given, so an idle newcomer and a returning user start level.

Pure functions over plain rows: the same code gives the claim order (workers) and the places
in line shown to users (web), and tests can check it without a database.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from generation.manager.types import BatchKey, OwnerId, job_work


@dataclass(frozen=True)
class QueuedJob:
    id: str
    owner_id: OwnerId
    created_at: datetime
    count: int
    key: BatchKey
    fair_tag: float

    @property
    def work(self) -> float:
        width, height, steps, _guidance, _variant = self.key
        return job_work(self.count, width, height, steps)


def fair_tags(*, virtual_now: float, owner_finish: float | None, work: float) -> tuple[float, float]:
    """(start, finish) tags of a new job. Its owner's last finish tag holds it back only when
    the owner is already ahead of everyone (has jobs promised beyond the head of the line)."""
    start = max(virtual_now, owner_finish if owner_finish is not None else virtual_now)
    return start, start + work


def virtual_now(*, unfinished_min_start: float | None, max_finish: float | None) -> float:
    """The head of the line, or, with nothing unfinished, the furthest anyone was ever served."""
    if unfinished_min_start is not None:
        return unfinished_min_start
    return max_finish if max_finish is not None else 0.0


def fair_key(job: QueuedJob) -> tuple[float, datetime, str]:
    """Ties (a newcomer starts level with the head) go to the older job; the id makes it total."""
    return (job.fair_tag, job.created_at, job.id)


def fair_order(queued: Iterable[QueuedJob]) -> list[QueuedJob]:
    return sorted(queued, key=fair_key)


def choose_batch(order: Iterable[QueuedJob], max_images: int) -> list[QueuedJob]:
    """The first job in line always goes (even alone over the limit: the manager splits its
    images into several calls); later jobs join while they fit and share its key."""
    jobs = iter(order)
    head = next(jobs, None)
    if head is None:
        return []
    chosen, images = [head], head.count
    for job in jobs:
        if images >= max_images:  # every job has at least one image: nothing more fits
            break
        if job.key == head.key and images + job.count <= max_images:
            chosen.append(job)
            images += job.count
    return chosen


def claim_sequence(order: Sequence[QueuedJob], max_images: int) -> Iterator[list[QueuedJob]]:
    """The batches successive claims take from ``order`` if nothing else changes: each is
    ``choose_batch`` over what the earlier ones left. The worker claims the first; the places
    shown to users come from all of them, so the place shown is the place served even when a
    later compatible job joins an earlier batch.

    Only jobs with the head's key can join its batch, so each claim reads the head's key
    alone, and only as far as the batch fills: a long queue stays cheap to simulate on every
    announcement.
    """
    by_key: dict[BatchKey, list[QueuedJob]] = {}
    for job in order:
        by_key.setdefault(job.key, []).append(job)
    first_left = dict.fromkeys(by_key, 0)  # per key: every job before this index is taken
    taken: set[str] = set()
    for head in order:
        if head.id in taken:
            continue
        same_key, index = by_key[head.key], first_left[head.key]
        while same_key[index].id in taken:
            index += 1
        first_left[head.key] = index  # same_key[index] is the head: all before it in line are taken
        left = (job for job in itertools.islice(same_key, index, None) if job.id not in taken)
        batch = choose_batch(left, max_images)
        taken.update(job.id for job in batch)
        yield batch
