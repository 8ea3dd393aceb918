"""Reading the fair line: the head of the queue in claim order, and what queuing one more job
needs to know (the limits and the fair tags), each in as few indexed queries as it takes."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Min, Q

from generation.events import JobStatus
from generation.manager.fairness import QueuedJob, fair_order, fair_tags, virtual_now
from generation.manager.types import OwnerId
from generation.models import GenerationJob

# Queued rows looked at per claim; the queue bound (WEE_WAA_MAX_QUEUE) keeps it all in view.
CLAIM_WINDOW = 1000


def queued_jobs(limit: int = CLAIM_WINDOW) -> list[QueuedJob]:
    """The first ``limit`` queued jobs in fair order (the window a claim chooses from)."""
    rows = (
        GenerationJob.objects.filter(status=JobStatus.QUEUED)
        .order_by("fair_tag", "created_at", "id")
        .values_list(
            "id",
            "owner_id",
            "created_at",
            "count",
            "width",
            "height",
            "steps",
            "guidance_scale",
            "batch_variant",
            "fair_tag",
        )[:limit]
    )
    return fair_order(
        QueuedJob(
            id=id_,
            owner_id=owner,
            created_at=created,
            count=count,
            key=(width, height, steps, guidance, variant),
            fair_tag=tag,
        )
        for id_, owner, created, count, width, height, steps, guidance, variant, tag in rows
    )


@dataclass(frozen=True)
class Admission:
    """What queuing one more job for an owner needs to know: the owner's unfinished jobs (the
    per-user limit) and last finish tag, the queue's length (the global limit) and the head of
    the line's tag (the fair clock)."""

    unfinished_mine: int
    queued: int
    owner_finish: float | None
    head: float | None

    def tags(self, work: float) -> tuple[float, float]:
        """(start, finish) tags for a job of this much work (see ``next_fair_tags``)."""
        furthest = None
        if self.head is None:  # nothing waiting or drawing: the clock is the furthest finish given
            furthest = GenerationJob.objects.order_by().aggregate(tag=Max("fair_finish"))["tag"]
        return fair_tags(
            virtual_now=virtual_now(unfinished_min_start=self.head, max_finish=furthest),
            owner_finish=self.owner_finish,
            work=work,
        )


UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)
# Cancelled before they started: nobody drew them, so they are not the owner's last tag.
NEVER_DRAWN = Q(status=JobStatus.CANCELLED, started_at__isnull=True)


def queue_admission(owner_id: OwnerId) -> Admission:
    """Two aggregates where the limits and the tags took five: one over the owner's jobs, one
    over the unfinished ones (the (status, fair_tag) index answers it without reading rows).
    Call it inside the transaction that saves the job, with the owner's row locked."""
    mine = (
        GenerationJob.objects.filter(owner_id=owner_id)
        .exclude(NEVER_DRAWN)
        .order_by()
        .aggregate(unfinished=Count("status", filter=Q(status__in=UNFINISHED)), finish=Max("fair_finish"))
    )
    line = (
        GenerationJob.objects.filter(status__in=UNFINISHED)
        .order_by()
        .aggregate(queued=Count("status", filter=Q(status=JobStatus.QUEUED)), head=Min("fair_tag"))
    )
    return Admission(
        unfinished_mine=mine["unfinished"], queued=line["queued"], owner_finish=mine["finish"], head=line["head"]
    )


def next_fair_tags(owner_id: OwnerId, work: float) -> tuple[float, float]:
    """(start, finish) tags for a job its owner queues now. Call it inside the transaction
    that saves the job, with the owner's row locked, so the owner's jobs get tags in turn.

    Jobs cancelled before they started are not the owner's last tag: nobody drew them, so a
    user who changes their mind is not sent to the back."""
    return queue_admission(owner_id).tags(work)
