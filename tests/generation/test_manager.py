"""A job goes through the real model manager with the tiny pipeline (real from_pretrained)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generation.events import JobStatus
from generation.manager.loader import DiffusersLoader
from generation.manager.worker import ModelManager
from generation.models import Background, GenerationJob
from tests.doubles import RecordingPublisher
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


def test_a_queued_job_succeeds_with_pngs_of_the_asked_size(manager: ModelManager, alice: Any) -> None:
    job = queue_job(alice, count=2, width=64, height=96, steps=3, seed=1234)

    assert manager.run_once() is True

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED
    assert job.progress == 1.0
    assert job.started_at is not None and job.finished_at is not None
    assert job.model_name == "tiny"
    images = list(job.images.order_by("index"))
    assert [image.seed for image in images] == [1234, 1235]
    for image in images:
        with default_storage.open(image.image.name, "rb") as stored, Image.open(stored) as picture:
            assert picture.format == "PNG"
            assert picture.size == (64, 96)
        assert (image.width, image.height) == (64, 96)


def test_it_reports_every_step_then_the_final_status_in_order(
    manager: ModelManager, publisher: RecordingPublisher, alice: Any
) -> None:
    job = queue_job(alice, steps=3)

    manager.run_once()

    events = [event for owner, event in publisher.events if owner == alice.pk]
    assert [event["type"] for event in events] == [
        "job.snapshot",
        "job.progress",
        "job.progress",
        "job.progress",
        "job.finished",
    ]
    assert all(event["job_id"] == job.id for event in events)
    assert events[0]["status"] == "running"
    assert [(event["step"], event["total"]) for event in events[1:4]] == [(1, 3), (2, 3), (3, 3)]
    assert events[-1]["status"] == "succeeded"
    assert [image["id"] for image in events[-1]["images"]] == list(job.images.values_list("id", flat=True))


def test_the_same_seed_draws_the_same_picture(manager: ModelManager, alice: Any) -> None:
    manager.batch_limit = 1  # each alone: in one call, rows may differ by float noise (test_batching)
    first, second = queue_job(alice, seed=77), queue_job(alice, seed=77)
    manager.run_until_idle()

    def pixels(job: GenerationJob) -> bytes:
        image = Background.objects.get(job=job)
        with default_storage.open(image.image.name, "rb") as stored, Image.open(stored) as picture:
            return picture.tobytes()

    assert pixels(first) == pixels(second)


def test_one_image_at_a_time_jobs_run_oldest_first(manager: ModelManager, alice: Any, bob: Any) -> None:
    manager.batch_limit = 1
    older, newer = queue_job(alice), queue_job(bob)

    manager.run_once()

    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, newer.status) == (JobStatus.SUCCEEDED, JobStatus.QUEUED)


class ExplodingPipeline:
    name = "exploding"
    device = "cpu"

    def text_windows(self, job: Any) -> int:
        return 1

    def generate(self, slots: Any, on_step: Any) -> list[Any]:
        import torch

        on_step(1, slots[0].job.steps, None)
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_a_pipeline_error_fails_the_job_with_a_reason_and_stores_nothing(
    manager: ModelManager, publisher: RecordingPublisher, alice: Any
) -> None:
    manager.pipeline = ExplodingPipeline()
    job = queue_job(alice)

    manager.run_once()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "ran out of memory" in job.error
    assert job.images.count() == 0
    assert publisher.events[-1][1]["status"] == "failed"
    assert publisher.events[-1][1]["error"] == job.error


def test_a_storage_error_removes_the_files_already_written(
    manager: ModelManager, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = queue_job(alice, count=2)
    saved: list[str] = []
    real_save = default_storage.save

    def save_then_break(name: str, content: Any, **kwargs: Any) -> str:
        if saved:
            raise OSError("disk full")
        saved.append(real_save(name, content, **kwargs))
        return saved[-1]

    monkeypatch.setattr(default_storage, "save", save_then_break)
    manager.run_once()

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "disk full" in job.error
    assert not default_storage.exists(saved[0])
    assert Background.objects.filter(job=job).count() == 0


def test_without_a_model_jobs_fail_with_the_load_error(alice: Any) -> None:
    class BrokenLoader:
        model = "broken"

        def load(self) -> Any:
            raise OSError("no such model")

    from generation.adapters.store import DjangoJobStore

    manager = ModelManager(store=DjangoJobStore(), publisher=RecordingPublisher(), loader=BrokenLoader())
    manager.load()
    job = queue_job(alice)

    manager.run_once()

    job.refresh_from_db()
    assert manager.status.state == "failed"
    assert job.status == JobStatus.FAILED
    assert "no such model" in job.error


def test_an_unreachable_hub_model_falls_back_to_the_offline_demo_model(model_cache: Any) -> None:
    loader = DiffusersLoader(
        model="wee-waa-tests/not-a-real-model", device="cpu", cache_dir=model_cache, allow_download=False
    )

    pipeline, status = loader.load()

    assert status.demo is True
    assert status.model == "tiny"
    assert status.requested_model == "wee-waa-tests/not-a-real-model"
    assert "is not in the model cache" in status.error
    assert pipeline.name == "tiny"


def test_a_local_folder_model_is_loaded_with_from_pretrained(model_cache: Any, tiny_loaded: Any) -> None:
    folder = next(path for path in model_cache.iterdir() if (path / "model_index.json").exists())

    pipeline, status = DiffusersLoader(model=str(folder), device="cpu", cache_dir=model_cache).load()

    assert status.demo is False
    assert status.model == str(folder)
    assert pipeline.pipe.__class__.__name__ == "StableDiffusionPipeline"  # type: ignore[attr-defined]


def test_stopping_mid_job_hands_the_job_back_to_the_queue(
    manager: ModelManager, publisher: RecordingPublisher, alice: Any
) -> None:
    job = queue_job(alice, steps=4)

    class StopAfterTwoSteps:
        def publish(self, owner_id: Any, event: dict[str, Any]) -> None:
            publisher.publish(owner_id, event)
            if event.get("step") == 2:
                manager.request_stop()  # from inside the job, as a SIGTERM would

    manager.publisher = StopAfterTwoSteps()
    assert manager.run_once() is True

    job.refresh_from_db()
    assert (job.status, job.progress, job.attempts) == (JobStatus.QUEUED, 0.0, 0)
    assert Background.objects.filter(job=job).count() == 0
    assert publisher.events[-1][1]["status"] == "queued"
    assert manager.run_once() is False  # a stopping manager claims nothing new
