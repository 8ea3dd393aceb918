"""Queuing a job reads one count of the jobs ahead of it, not the line; everyone else hears
of their new places from one announcement shortly after."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from generation.adapters.line import queue_admission
from generation.adapters.publisher import bind_server_loop
from generation.models import GenerationJob, GenerationWorker
from generation.queueing import QueueAnnouncer, place_of, queue_places
from tests.doubles import RecordingPublisher
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


def test_a_new_job_is_placed_behind_the_jobs_ahead_of_it_in_fair_order(alice: Any, bob: Any, settings: Any) -> None:
    settings.WEE_WAA_MAX_BATCH = 1
    queue_job(alice)
    queue_job(alice)
    bobs = queue_job(bob)  # a newcomer's first job goes ahead of alice's second

    place = place_of(bobs)[bobs.id][1]

    assert place == queue_places()[bobs.id][1] == {"job_id": bobs.id, "position": 2, "eta_seconds": None}


def test_the_new_jobs_eta_counts_the_work_ahead_when_a_worker_has_a_rate(alice: Any, bob: Any) -> None:
    GenerationWorker.objects.create(
        id="gpu-1:10:abc", hostname="gpu-1", pid=10, images_per_second=2.0,
        work_per_second=2.0 * 64 * 64 * 2 / 1e6, last_seen_at=timezone.now(),
    )  # fmt: skip
    queue_job(bob, count=3)
    mine = queue_job(alice)

    assert place_of(mine)[mine.id][1] == {"job_id": mine.id, "position": 2, "eta_seconds": 2.0}


def test_placing_a_job_costs_the_same_queries_however_long_the_line(alice: Any, bob: Any, settings: Any) -> None:
    settings.WEE_WAA_MAX_UNFINISHED_PER_USER = 100

    def queries_to_place() -> int:
        job = queue_job(alice)
        with CaptureQueriesContext(connection) as captured:
            place_of(job)
        return len(captured.captured_queries)

    queries_to_place()  # the workers' rate is read at most every 2 s: out of the way
    short = queries_to_place()
    for _ in range(30):
        queue_job(bob)

    assert queries_to_place() == short <= 2


def test_the_admission_reads_the_limits_and_the_fair_clock_in_two_queries(alice: Any, bob: Any) -> None:
    first = queue_job(alice)
    queue_job(bob)
    GenerationJob.objects.filter(id=first.id).update(status="running")

    with CaptureQueriesContext(connection) as captured:
        admission = queue_admission(alice.pk)

    assert len(captured.captured_queries) == 2
    assert (admission.unfinished_mine, admission.queued, admission.head) == (1, 1, 0.0)
    assert admission.owner_finish == first.fair_finish


def test_without_a_server_loop_soon_announces_at_once(alice: Any) -> None:
    publisher = RecordingPublisher()
    job = queue_job(alice)

    QueueAnnouncer(publisher).soon()

    assert publisher.events == [
        (alice.pk, {"type": "job.queue", "jobs": [{"job_id": job.id, "position": 1, "eta_seconds": None}]})
    ]


@pytest.mark.django_db(transaction=True)
def test_under_a_server_a_burst_of_new_jobs_is_announced_once_from_another_thread(alice: Any) -> None:
    publisher = RecordingPublisher()
    announcer = QueueAnnouncer(publisher)
    job = queue_job(alice)
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    bind_server_loop(loop)
    try:
        for _ in range(5):
            announcer.soon()
        assert publisher.events == []  # not on the caller's thread
        for _ in range(100):
            if publisher.events:
                break
            threading.Event().wait(0.02)
    finally:
        bind_server_loop(None)
        loop.call_soon_threadsafe(loop.stop)
        runner.join(timeout=5)
        loop.close()

    assert publisher.events == [
        (alice.pk, {"type": "job.queue", "jobs": [{"job_id": job.id, "position": 1, "eta_seconds": None}]})
    ]
