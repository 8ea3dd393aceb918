"""Start-time fair queuing: tags remember what each user was served, so turns survive finished
jobs; claims take the fair order, batched. (The real worker loop: test_fair_queue_worker.py.)"""

from __future__ import annotations

import importlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone

from generation.adapters.store import DjangoJobStore, next_fair_tags
from generation.events import JobStatus
from generation.manager.fairness import (
    QueuedJob,
    choose_batch,
    claim_sequence,
    fair_order,
    fair_tags,
    virtual_now,
)
from generation.models import GenerationJob
from generation.services import job_cancel
from tests.factories import queue_job

T0 = datetime(2026, 1, 1, tzinfo=UTC)
KEY = (64, 64, 2, 0.0, "")
SMALL = 64 * 64 * 2 / 1e6  # the work of one queue_job default image


def job(
    name: str, owner: str, second: int, tag: float = 0.0, count: int = 1, key: tuple[int, int, int, float, str] = KEY
) -> QueuedJob:
    return QueuedJob(
        id=name, owner_id=owner, created_at=T0 + timedelta(seconds=second), count=count, key=key, fair_tag=tag
    )


def test_jobs_go_in_tag_order_and_the_older_job_wins_a_tie() -> None:
    queued = [job("a1", "alice", 0, tag=1.0), job("b0", "bob", 5, tag=0.0), job("a0", "alice", 1, tag=0.0)]

    assert [item.id for item in fair_order(queued)] == ["a0", "b0", "a1"]


def test_a_users_tags_advance_by_the_work_they_asked_for() -> None:
    start, finish = fair_tags(virtual_now=3.0, owner_finish=None, work=0.5)
    assert (start, finish) == (3.0, 3.5)

    start, finish = fair_tags(virtual_now=3.0, owner_finish=finish, work=2.0)  # the owner is ahead of the line
    assert (start, finish) == (3.5, 5.5)


def test_a_user_who_was_served_long_ago_starts_level_with_the_head_of_the_line() -> None:
    assert fair_tags(virtual_now=9.0, owner_finish=2.0, work=1.0) == (9.0, 10.0)


def test_virtual_now_is_the_head_of_the_line_or_the_furthest_served_when_nothing_waits() -> None:
    assert virtual_now(unfinished_min_start=4.0, max_finish=7.0) == 4.0
    assert virtual_now(unfinished_min_start=None, max_finish=7.0) == 7.0
    assert virtual_now(unfinished_min_start=None, max_finish=None) == 0.0


def test_a_batch_takes_compatible_jobs_in_turn_up_to_the_image_limit() -> None:
    other_size = (128, 128, 2, 0.0, "")
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


def test_the_claim_sequence_is_what_successive_claims_would_take() -> None:
    keys = [KEY, (128, 128, 2, 0.0, ""), (64, 64, 4, 0.0, ""), (64, 64, 2, 0.0, "edit:0.50")]
    randomness = random.Random(9)
    for _ in range(300):
        queued = [
            job(
                f"j{n}",
                f"u{randomness.randrange(4)}",
                n,
                tag=randomness.randrange(6) / 2,
                count=randomness.randint(1, 4),
                key=randomness.choice(keys),
            )
            for n in range(randomness.randrange(25))
        ]
        max_images = randomness.randint(1, 8)
        order = fair_order(queued)
        expected, rest = [], list(order)
        while rest:
            batch = choose_batch(rest, max_images)
            expected.append([item.id for item in batch])
            rest = [item for item in rest if item not in batch]

        assert [[item.id for item in batch] for batch in claim_sequence(order, max_images)] == expected


@pytest.mark.django_db
def test_a_newcomer_starts_level_with_the_head_of_the_line(alice: Any, bob: Any, settings: Any) -> None:
    settings.WEE_WAA_MAX_UNFINISHED_PER_USER = 30
    alices = [queue_job(alice) for _ in range(20)]
    bobs = queue_job(bob)

    assert [round(item.fair_tag / SMALL) for item in alices] == list(range(20))
    assert (bobs.fair_tag, bobs.fair_finish) == (0.0, SMALL)


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
def test_a_user_whose_job_is_drawing_waits_behind_a_newcomers_first_job(alice: Any, bob: Any) -> None:
    queue_job(alice)
    DjangoJobStore().claim_batch("test:1:a", max_images=1, lease_seconds=30)
    alices_next = queue_job(alice)
    bobs = queue_job(bob)

    claimed = DjangoJobStore().claim_batch("test:1:a", max_images=1, lease_seconds=30)

    assert [spec.id for spec in claimed] == [bobs.id]
    assert alices_next.fair_tag > bobs.fair_tag


@pytest.mark.django_db
def test_an_idle_newcomer_and_a_returning_user_start_level(alice: Any, bob: Any) -> None:
    big = queue_job(alice, width=128, height=128)
    DjangoJobStore().claim_batch("test:1:a", max_images=1, lease_seconds=30)
    GenerationJob.objects.filter(id=big.id).update(status=JobStatus.SUCCEEDED, finished_at=timezone.now())

    again, newcomer = queue_job(alice), queue_job(bob)

    assert again.fair_tag == newcomer.fair_tag == big.fair_finish


@pytest.mark.django_db
def test_jobs_cancelled_before_they_started_do_not_hold_their_owner_back(alice: Any, bob: Any) -> None:
    queue_job(bob)  # the head of the line stays put
    changed_mind = [queue_job(alice) for _ in range(3)]
    for item in changed_mind:
        job_cancel(job=item)

    assert queue_job(alice).fair_tag == 0.0


@pytest.mark.django_db
def test_a_requeued_job_keeps_its_tag_and_goes_first_again(alice: Any, bob: Any) -> None:
    first = queue_job(alice)
    queue_job(bob)
    queue_job(alice)
    store = DjangoJobStore()
    store.claim_batch("host:1:dead", max_images=1, lease_seconds=30)
    GenerationJob.objects.filter(id=first.id).update(lease_expires_at=timezone.now() - timedelta(seconds=1))

    assert store.recover(max_attempts=3) == ([first.id], [])

    assert GenerationJob.objects.get(id=first.id).fair_tag == first.fair_tag
    assert [spec.id for spec in store.claim_batch("host:2:new", max_images=1, lease_seconds=30)] == [first.id]


@pytest.mark.django_db
def test_next_tags_are_read_from_the_rows(alice: Any, bob: Any) -> None:
    queue_job(alice, count=2)
    assert next_fair_tags(alice.pk, 1.0) == (2 * SMALL, 2 * SMALL + 1.0)
    assert next_fair_tags(bob.pk, 1.0) == (0.0, 1.0)


@pytest.mark.django_db
def test_the_migration_tags_waiting_jobs_per_owner_in_created_order_drawing_ones_first(alice: Any, bob: Any) -> None:
    jobs = [queue_job(alice), queue_job(alice, count=3), queue_job(bob), queue_job(alice)]
    GenerationJob.objects.filter(id=jobs[1].id).update(status=JobStatus.RUNNING)
    done = queue_job(bob)
    GenerationJob.objects.filter(id=done.id).update(status=JobStatus.SUCCEEDED)
    GenerationJob.objects.update(fair_tag=0.0, fair_finish=0.0)  # as the new columns start

    importlib.import_module("generation.migrations.0005_fair_tags").tag_waiting_jobs(apps, None)

    tags = dict(GenerationJob.objects.values_list("id", "fair_tag"))
    assert [round(tags[item.id] / SMALL) for item in jobs] == [3, 0, 0, 4]
    assert tags[done.id] == 0.0
