"""Restart recovery: jobs left running by a dead process are re-queued, a bounded number of times."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.db import OperationalError

from generation.adapters.store import DjangoJobStore
from generation.events import JobStatus
from generation.manager.worker import ModelManager
from generation.models import GenerationJob
from tests.doubles import RecordingPublisher
from tests.factories import queue_job
from tests.pipelines import PreloadedLoader

pytestmark = pytest.mark.django_db


def _left_running(owner: Any, attempts: int) -> GenerationJob:
    job = queue_job(owner)
    GenerationJob.objects.filter(id=job.id).update(status=JobStatus.RUNNING, progress=0.5, attempts=attempts)
    return job


def test_a_job_left_running_is_requeued_and_then_completes(manager: ModelManager, alice: Any) -> None:
    job = _left_running(alice, attempts=1)

    manager.recover()
    job.refresh_from_db()
    assert (job.status, job.progress) == (JobStatus.QUEUED, 0.0)

    manager.run_once()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.attempts == 2
    assert job.images.count() == 1


def test_a_job_that_keeps_dying_is_failed_with_a_reason(manager: ModelManager, alice: Any) -> None:
    job = _left_running(alice, attempts=manager.max_attempts)

    manager.recover()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "stopped 3 times" in job.error
    assert job.finished_at is not None


def test_recovery_leaves_queued_and_finished_jobs_alone(manager: ModelManager, alice: Any) -> None:
    queued = queue_job(alice)
    done = queue_job(alice)
    GenerationJob.objects.filter(id=done.id).update(status=JobStatus.SUCCEEDED, progress=1.0)

    manager.recover()

    assert GenerationJob.objects.get(id=queued.id).status == JobStatus.QUEUED
    assert GenerationJob.objects.get(id=done.id).status == JobStatus.SUCCEEDED


def _run_thread_until_done(manager: ModelManager, job: GenerationJob, seconds: float = 30) -> GenerationJob:
    """Start the real worker thread, wait for the job to finish, stop the thread."""
    manager.start()
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status == JobStatus.SUCCEEDED:
                break
            time.sleep(0.05)
    finally:
        manager.stop()
    return job


def test_the_started_manager_thread_recovers_and_drains_the_queue(
    tiny_loaded: Any, alice: Any, transactional_db: None
) -> None:
    job = _left_running(alice, attempts=1)
    manager = ModelManager(
        store=DjangoJobStore(), publisher=RecordingPublisher(), loader=PreloadedLoader(tiny_loaded), poll_seconds=0.05
    )

    assert _run_thread_until_done(manager, job).status == JobStatus.SUCCEEDED
    assert not manager.alive


def test_the_manager_thread_survives_a_database_error_at_start(
    tiny_loaded: Any, alice: Any, transactional_db: None
) -> None:
    class FlakyStore(DjangoJobStore):
        failures = 1

        def recover(self, max_attempts: int) -> tuple[list[str], list[str]]:
            if self.failures:
                self.failures -= 1
                raise OperationalError("database is starting up")
            return super().recover(max_attempts)

    job = _left_running(alice, attempts=1)
    manager = ModelManager(
        store=FlakyStore(), publisher=RecordingPublisher(), loader=PreloadedLoader(tiny_loaded), poll_seconds=0.05
    )

    assert _run_thread_until_done(manager, job).status == JobStatus.SUCCEEDED
