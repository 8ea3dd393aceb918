"""Round-robin across users: a user with many queued jobs never starves a user with one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from generation.events import JobStatus
from generation.manager.fairness import QueuedJob, choose_batch, fair_order
from generation.manager.store import DjangoJobStore
from generation.models import GenerationJob
from tests.factories import queue_job

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEY = (64, 64, 2, 0.0)


def job(name: str, owner: str, second: int, count: int = 1, key: tuple[int, int, int, float] = KEY) -> QueuedJob:
    return QueuedJob(id=name, owner_id=owner, created_at=T0 + timedelta(seconds=second), count=count, key=key)


def test_users_take_turns_oldest_first_within_a_turn() -> None:
    heavy = [job(f"a{n}", "alice", n) for n in range(5)]
    light = [job("b0", "bob", 10), job("c0", "carol", 11), job("b1", "bob", 12)]

    order = fair_order(heavy + light, running={})

    assert [item.id for item in order] == ["a0", "b0", "c0", "a1", "b1", "a2", "a3", "a4"]


def test_a_user_whose_job_is_drawing_waits_for_the_others_first_turn() -> None:
    order = fair_order([job("a1", "alice", 0), job("b0", "bob", 5)], running={"alice": 1})

    assert [item.id for item in order] == ["b0", "a1"]


def test_a_batch_takes_compatible_jobs_in_turn_up_to_the_image_limit() -> None:
    other_size = (128, 128, 2, 0.0)
    order = [
        job("a0", "alice", 0, count=2),
        job("b0", "bob", 1, key=other_size),
        job("c0", "carol", 2, count=4),
        job("d0", "dave", 3, count=2),
        job("e0", "erin", 4),
    ]

    chosen = choose_batch(order, max_images=5)

    assert [item.id for item in chosen] == ["a0", "d0", "e0"]  # c0 does not fit, b0 has another size


def test_the_first_job_in_line_goes_even_when_it_alone_is_over_the_limit() -> None:
    assert [item.id for item in choose_batch([job("a0", "alice", 0, count=4)], max_images=1)] == ["a0"]


@pytest.mark.django_db
def test_claims_serve_a_user_with_one_job_before_a_user_with_twenty(alice: Any, bob: Any, settings: Any) -> None:
    settings.WEE_WAA_MAX_UNFINISHED_PER_USER = 30
    alices = [queue_job(alice) for _ in range(20)]
    bobs = queue_job(bob)
    store = DjangoJobStore()

    first = store.claim_batch("test:1:a", max_images=1, lease_seconds=30)
    second = store.claim_batch("test:1:a", max_images=1, lease_seconds=30)

    assert [spec.id for spec in first] == [alices[0].id]
    assert [spec.id for spec in second] == [bobs.id]


@pytest.mark.django_db
def test_a_claim_batches_several_users_and_marks_them_running_with_a_lease(alice: Any, bob: Any) -> None:
    jobs = [queue_job(alice), queue_job(bob), queue_job(alice, width=128)]

    claimed = DjangoJobStore().claim_batch("host:1:x", max_images=8, lease_seconds=30)

    assert [spec.id for spec in claimed] == [jobs[0].id, jobs[1].id]
    rows = {row.id: row for row in GenerationJob.objects.all()}
    for spec in claimed:
        assert rows[spec.id].status == JobStatus.RUNNING
        assert rows[spec.id].worker == "host:1:x"
        assert rows[spec.id].lease_expires_at is not None
        assert rows[spec.id].attempts == 1
    assert rows[jobs[2].id].status == JobStatus.QUEUED
