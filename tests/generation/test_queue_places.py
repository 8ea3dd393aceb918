"""Each queued job shows its place in line and an ETA from measured throughput."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from generation.events import JobStatus
from generation.manager.worker import ModelManager
from generation.models import GenerationJob, GenerationWorker
from generation.queueing import QueueAnnouncer, queue_places
from tests.doubles import RecordingPublisher
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


SMALL_IMAGE = 64 * 64 * 2 / 1e6  # megapixel-steps of one 64 x 64, 2-step image (queue_job's default)


@pytest.fixture
def carol(db: None) -> User:
    return User.objects.create_user("carol", "carol@example.com", "correct horse battery")


def a_worker_measured(images_per_second: float) -> None:
    """A worker that draws this many of queue_job's small images per second."""
    GenerationWorker.objects.create(
        id="gpu-1:10:abc",
        hostname="gpu-1",
        pid=10,
        images_per_second=images_per_second,
        work_per_second=images_per_second * SMALL_IMAGE,
        last_seen_at=timezone.now(),
    )


def test_places_follow_the_fair_order_and_the_eta_counts_the_images_ahead(alice: Any, bob: Any, settings: Any) -> None:
    settings.WEE_WAA_MAX_BATCH = 1
    a_worker_measured(2.0)
    first, second = queue_job(alice, count=2), queue_job(alice)
    bobs = queue_job(bob, count=4)

    places = {job_id: place for job_id, (_owner, place) in queue_places().items()}

    assert [places[job.id]["position"] for job in (first, bobs, second)] == [1, 2, 3]
    assert [places[job.id]["eta_seconds"] for job in (first, bobs, second)] == [1.0, 3.0, 3.5]


def test_a_later_job_that_joins_an_earlier_batch_is_shown_that_batchs_place_and_eta(
    alice: Any, bob: Any, carol: Any, settings: Any
) -> None:
    settings.WEE_WAA_MAX_BATCH = 4
    a_worker_measured(2.0)
    first = queue_job(alice, count=2)
    bobs = queue_job(bob, count=4)  # 2 + 4 is over the limit: the next batch
    other_size = queue_job(carol, width=128)  # another key: a batch of its own
    second = queue_job(alice)  # joins the first batch

    places = {job_id: place for job_id, (_owner, place) in queue_places().items()}

    line = (first, second, bobs, other_size)
    assert [places[job.id]["position"] for job in line] == [1, 2, 3, 4]
    # first + second drawn together (3 images), then bob's 4, then carol's (2 images' worth)
    assert [places[job.id]["eta_seconds"] for job in line] == [1.5, 1.5, 3.5, 4.5]


def test_the_eta_counts_bigger_and_longer_jobs_and_what_is_left_of_the_running_ones(alice: Any, bob: Any) -> None:
    a_worker_measured(2.0)
    drawing = queue_job(bob, steps=4)  # two small images' worth, half done
    GenerationJob.objects.filter(id=drawing.id).update(status=JobStatus.RUNNING, progress=0.5)
    big = queue_job(alice, width=128, height=128)  # four small images' worth

    assert queue_places()[big.id][1]["eta_seconds"] == 2.5  # (1 left + 4) / 2 per second


def test_without_a_measured_worker_there_is_no_eta_yet(alice: Any) -> None:
    job = queue_job(alice)

    assert queue_places()[job.id][1]["eta_seconds"] is None


def test_the_api_shows_the_place_in_line_of_queued_jobs_only(
    alice_api: APIClient, alice: Any, bob: Any, manager: ModelManager
) -> None:
    a_worker_measured(4.0)
    queue_job(bob)
    mine = queue_job(alice)

    body = alice_api.get(f"/api/v1/jobs/{mine.id}/").json()
    assert (body["position"], body["eta_seconds"], body["cancel_requested"]) == (2, 0.5, False)

    manager.run_until_idle()
    body = alice_api.get("/api/v1/jobs/").json()["results"][0]
    assert (body["status"], body["position"], body["eta_seconds"]) == ("succeeded", None, None)


def by_owner(publisher: RecordingPublisher) -> list[tuple[Any, dict[str, Any]]]:
    return sorted(publisher.events, key=lambda item: item[0])


def test_places_are_announced_to_each_owner_only_when_they_change(alice: Any, bob: Any) -> None:
    publisher = RecordingPublisher()
    announce = QueueAnnouncer(publisher)
    alice_job = queue_job(alice)
    bob_job = queue_job(bob)

    announce()
    announce()  # nothing moved: nothing sent

    assert by_owner(publisher) == [
        (alice.pk, {"type": "job.queue", "jobs": [{"job_id": alice_job.id, "position": 1, "eta_seconds": None}]}),
        (bob.pk, {"type": "job.queue", "jobs": [{"job_id": bob_job.id, "position": 2, "eta_seconds": None}]}),
    ]

    publisher.events.clear()
    alice_job.delete()
    announce()

    assert by_owner(publisher) == [
        (alice.pk, {"type": "job.queue", "jobs": []}),
        (bob.pk, {"type": "job.queue", "jobs": [{"job_id": bob_job.id, "position": 1, "eta_seconds": None}]}),
    ]


def test_the_snapshot_on_connect_carries_the_place_in_line(alice: Any, bob: Any) -> None:
    from generation.selectors import unfinished_job_snapshots

    queue_job(bob)
    mine = queue_job(alice)

    (snapshot,) = unfinished_job_snapshots(alice)

    assert (snapshot["job_id"], snapshot["position"]) == (mine.id, 2)
