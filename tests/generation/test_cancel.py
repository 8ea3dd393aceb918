"""Cancel: a queued job ends at once; a running one stops at the next step, batch-mates go on."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
from rest_framework.test import APIClient

from generation import runtime, services
from generation.events import JobStatus
from generation.manager.worker import ModelManager
from generation.models import Background, GenerationJob
from tests.doubles import RecordingPublisher
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


def cancel_url(job: GenerationJob) -> str:
    return f"/api/v1/jobs/{job.id}/cancel/"


def test_a_queued_job_is_cancelled_at_once_and_never_drawn(
    alice_api: APIClient, alice: Any, manager: ModelManager
) -> None:
    job = queue_job(alice)

    response = alice_api.post(cancel_url(job))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert manager.run_once() is False
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED and job.finished_at is not None


def test_another_users_job_cannot_be_cancelled(bob_api: APIClient, alice: Any) -> None:
    job = queue_job(alice)

    assert bob_api.post(cancel_url(job)).status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_a_finished_job_says_there_is_nothing_to_cancel(
    alice_api: APIClient, alice: Any, manager: ModelManager
) -> None:
    job = queue_job(alice)
    manager.run_once()

    response = alice_api.post(cancel_url(job))

    assert response.status_code == 409
    assert "already finished" in response.json()["detail"]
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.images.count() == 1


class CancelAtStep:
    """Publishes like the real publisher, and cancels a job when its given step is reported."""

    def __init__(
        self, publisher: RecordingPublisher, job: GenerationJob, step: int, on_commit: Any = nullcontext
    ) -> None:
        self.publisher, self.job, self.step, self.on_commit = publisher, job, step, on_commit

    def publish(self, owner_id: Any, event: dict[str, Any]) -> None:
        self.publisher.publish(owner_id, event)
        if event.get("job_id") == self.job.id and event["type"] == "job.progress" and event["step"] == self.step:
            with self.on_commit():
                services.job_cancel(job=self.job)


def test_a_running_job_stops_at_the_next_step_and_its_batch_mate_finishes(
    manager: ModelManager, publisher: RecordingPublisher, alice: Any, bob: Any
) -> None:
    alice_job = queue_job(alice, steps=4, count=2)
    bob_job = queue_job(bob, steps=4)
    manager.progress_interval = 0  # check the database for cancels at every step
    manager.publisher = CancelAtStep(publisher, alice_job, step=1)

    manager.run_once()

    alice_job.refresh_from_db()
    bob_job.refresh_from_db()
    assert alice_job.status == JobStatus.CANCELLED
    assert Background.objects.filter(job=alice_job).count() == 0
    alice_events = [event for who, event in publisher.events if who == alice.pk]
    assert [event["step"] for event in alice_events if event["type"] == "job.progress"] == [1]
    assert (alice_events[-1]["type"], alice_events[-1]["status"]) == ("job.finished", "cancelled")
    assert bob_job.status == JobStatus.SUCCEEDED and bob_job.images.count() == 1
    bob_steps = [event["step"] for who, event in publisher.events if who == bob.pk and event["type"] == "job.progress"]
    assert bob_steps == [1, 2, 3, 4]


def test_a_cancel_reaches_this_processs_manager_without_waiting_for_the_database(
    manager: ModelManager,
    publisher: RecordingPublisher,
    alice: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    monkeypatch.setattr(runtime, "_current", runtime.Runtime(manager=manager))
    manager.progress_interval = 3600  # the database is not looked at again during this job
    job = queue_job(alice, steps=4)
    commit = lambda: django_capture_on_commit_callbacks(execute=True)  # noqa: E731 - the test runs in a transaction
    manager.publisher = CancelAtStep(publisher, job, step=2, on_commit=commit)

    manager.run_once()

    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    steps = [event["step"] for _, event in publisher.events if event["type"] == "job.progress"]
    assert steps == [1, 2]


def test_when_every_job_in_the_call_is_cancelled_the_pipeline_stops(
    manager: ModelManager, publisher: RecordingPublisher, alice: Any
) -> None:
    job = queue_job(alice, steps=6)
    manager.progress_interval = 0
    manager.publisher = CancelAtStep(publisher, job, step=2)
    steps_seen: list[int] = []
    assert manager.pipeline is not None
    real_generate = manager.pipeline.generate

    def counting(slots: Any, on_step: Any) -> Any:
        def wrapped(step: int, total: int, source: Any) -> bool:
            steps_seen.append(step)
            return bool(on_step(step, total, source))

        return real_generate(slots, wrapped)

    monkeypatch_target = manager.pipeline
    monkeypatch_target.generate = counting  # type: ignore[method-assign]
    try:
        manager.run_once()
    finally:
        del monkeypatch_target.generate  # type: ignore[attr-defined]

    assert steps_seen == [1, 2, 3]  # asked to stop at step 3, diffusers leaves the loop
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
