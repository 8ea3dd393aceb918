"""Leases: a worker that stalled past its lease loses the job and can no longer touch it."""

from __future__ import annotations

from typing import Any

import pytest

from generation.adapters.store import DjangoJobStore
from generation.events import JobStatus
from generation.models import GenerationJob
from tests.factories import queue_job

pytestmark = pytest.mark.django_db

A, B = "host-a:1:aaa", "host-b:2:bbb"


def taken_over(owner: Any) -> tuple[DjangoJobStore, GenerationJob]:
    """Worker A claims a job, stalls past its lease, and worker B re-claims it."""
    store = DjangoJobStore()
    job = queue_job(owner)
    store.claim_batch(A, max_images=1, lease_seconds=30)
    GenerationJob.objects.filter(id=job.id).update(lease_expires_at=None)  # the lease ran out
    assert store.recover(max_attempts=3) == ([job.id], [])
    assert [spec.id for spec in store.claim_batch(B, max_images=1, lease_seconds=30)] == [job.id]
    return store, job


def test_the_stalled_worker_hears_it_lost_the_job(alice: Any) -> None:
    store, job = taken_over(alice)

    assert store.heartbeat(A, [job.id], 30) == (set(), {job.id})
    assert store.heartbeat(B, [job.id], 30) == (set(), set())


def test_the_stalled_worker_cannot_write_to_the_job_any_more(alice: Any) -> None:
    store, job = taken_over(alice)
    GenerationJob.objects.filter(id=job.id).update(cancel_requested=True)

    store.record_progress(A, [job.id], 0.9)
    store.fail(job.id, "A's pipeline broke", A)
    assert store.cancel(job.id, A) is False
    store.release(job.id, A)

    job.refresh_from_db()
    assert (job.status, job.worker, job.attempts, job.progress, job.error) == (JobStatus.RUNNING, B, 2, 0.0, "")


def test_a_cancel_asked_while_the_worker_was_gone_is_honoured_instead_of_a_retry(alice: Any) -> None:
    store = DjangoJobStore()
    job = queue_job(alice)
    store.claim_batch(A, max_images=1, lease_seconds=30)
    GenerationJob.objects.filter(id=job.id).update(lease_expires_at=None, cancel_requested=True)

    store.recover(max_attempts=3)

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
