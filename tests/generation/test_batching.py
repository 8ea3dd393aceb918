"""Cross-user batches: one pipeline call, results split back to the right jobs and owners."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy
import pytest
import torch
from django.core.files.storage import default_storage
from PIL import Image

from generation.events import JobStatus
from generation.manager.batch import OOM_MESSAGE
from generation.manager.loader import DiffusersLoader
from generation.manager.types import JobSpec, Pipeline, Slot, StepCallback
from generation.manager.worker import ModelManager
from generation.models import Background, GenerationJob
from tests.doubles import RecordingPublisher
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


class Watched:
    """The real tiny pipeline, recording each call's slots and failing on demand."""

    def __init__(self, inner: Pipeline, *, oom_over: int | None = None, poison: str | None = None) -> None:
        self.inner = inner
        self.name = inner.name
        self.device = inner.device
        self.oom_over = oom_over
        self.poison = poison
        self.calls: list[list[tuple[str, int]]] = []

    def text_windows(self, job: JobSpec) -> int:
        return self.inner.text_windows(job)

    def generate(self, slots: Sequence[Slot], on_step: StepCallback) -> list[Any]:
        self.calls.append([(slot.job.id, slot.index) for slot in slots])
        if self.oom_over is not None and len(slots) > self.oom_over:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 3.00 GiB")
        if self.poison and any(self.poison in slot.job.prompt for slot in slots):
            raise ValueError("this prompt breaks the text encoder")
        return self.inner.generate(slots, on_step)


def watch(manager: ModelManager, **options: Any) -> Watched:
    assert manager.pipeline is not None
    watched = Watched(manager.pipeline, **options)
    manager.pipeline = watched
    return watched


def pixels(job: GenerationJob) -> list[torch.Tensor]:
    result = []
    for image in Background.objects.filter(job=job).order_by("index"):
        with default_storage.open(image.image.name, "rb") as stored, Image.open(stored) as picture:
            result.append(torch.from_numpy(numpy.array(picture.convert("RGB"))).to(torch.int16))
    return result


def test_jobs_of_different_users_share_one_pipeline_call(
    manager: ModelManager, publisher: RecordingPublisher, alice: Any, bob: Any
) -> None:
    pipeline = watch(manager)
    alice_job = queue_job(alice, count=2, seed=100, prompt="a snowy street")
    bob_job = queue_job(bob, seed=900, prompt="a sunny street")  # as long: one call

    assert manager.run_once() is True

    assert len(pipeline.calls) == 1
    assert sorted(pipeline.calls[0]) == sorted([(alice_job.id, 0), (alice_job.id, 1), (bob_job.id, 0)])
    for job, seeds in ((alice_job, [100, 101]), (bob_job, [900])):
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED
        assert [image.seed for image in job.images.order_by("index")] == seeds
    for owner, job in ((alice, alice_job), (bob, bob_job)):
        events = [event for who, event in publisher.events if who == owner.pk]
        assert {event["job_id"] for event in events} == {job.id}
        assert [event["type"] for event in events][-1] == "job.finished"
        assert [event["step"] for event in events if event["type"] == "job.progress"] == [1, 2]
        assert all(event["sent_at"] > 0 for event in events if event["type"] == "job.progress")


def test_a_jobs_pictures_do_not_depend_on_its_batch_mates(manager: ModelManager, alice: Any, bob: Any) -> None:
    alone = queue_job(alice, count=2, seed=4242, prompt="a snowy street")
    manager.run_once()
    batched = queue_job(alice, count=2, seed=4242, prompt="a snowy street")
    queue_job(bob, count=3, seed=7, prompt="something else entirely")
    pipeline = watch(manager)

    manager.run_once()

    assert len(pipeline.calls[0]) == 5
    for mine, reference in zip(pixels(batched), pixels(alone), strict=True):
        # Batched kernels differ from batch-1 ones by float noise (~1e-6), at most 1-2 levels in 8 bits.
        assert (mine - reference).abs().max().item() <= 2


def test_out_of_memory_halves_the_call_and_every_job_still_succeeds(
    manager: ModelManager, alice: Any, bob: Any
) -> None:
    pipeline = watch(manager, oom_over=1)
    jobs = [queue_job(alice), queue_job(bob), queue_job(alice)]

    manager.run_once()

    assert [len(call) for call in pipeline.calls] == [3, 1, 2, 1, 1]
    assert manager.batch_limit == 1  # the next claims are smaller
    for job in jobs:
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED
        assert job.images.count() == 1


def test_out_of_memory_on_a_single_image_fails_that_job_with_a_clear_reason(
    manager: ModelManager, publisher: RecordingPublisher, alice: Any
) -> None:
    watch(manager, oom_over=0)
    job = queue_job(alice)

    manager.run_once()

    job.refresh_from_db()
    assert (job.status, job.error) == (JobStatus.FAILED, OOM_MESSAGE)
    assert publisher.events[-1][1]["error"] == OOM_MESSAGE


def test_a_pipeline_error_fails_only_the_job_that_causes_it(
    manager: ModelManager, publisher: RecordingPublisher, alice: Any, bob: Any
) -> None:
    watch(manager, poison="boom")
    bad = queue_job(alice, prompt="boom goes the scene")
    good = queue_job(bob, prompt="a quiet lake")

    manager.run_once()

    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.status == JobStatus.FAILED
    assert "this prompt breaks the text encoder" in bad.error
    assert bad.images.count() == 0
    assert good.status == JobStatus.SUCCEEDED
    assert good.images.count() == 1
    bob_final = [event for who, event in publisher.events if who == bob.pk][-1]
    assert (bob_final["type"], bob_final["status"]) == ("job.finished", "succeeded")


def decode_preview(event: dict[str, Any]) -> Image.Image:
    header, data = event["image"].split(",", 1)
    assert header == "data:image/jpeg;base64"
    return Image.open(io.BytesIO(base64.b64decode(data)))


def test_the_owner_gets_previews_of_the_first_candidate_while_it_draws(
    manager: ModelManager, publisher: RecordingPublisher, alice: Any
) -> None:
    manager.preview_every = 2
    job = queue_job(alice, count=2, steps=4, width=128, height=64)

    manager.run_once()

    previews = [event for _, event in publisher.events if event["type"] == "job.preview"]
    assert [(event["job_id"], event["step"]) for event in previews] == [(job.id, 2), (job.id, 4)]
    picture = decode_preview(previews[0])
    assert picture.size == (16, 8) == (previews[0]["width"], previews[0]["height"])  # latent size: 1/8
    types = [event["type"] for _, event in publisher.events]
    assert types.index("job.preview") < types.index("job.finished")


def test_a_tiny_autoencoder_decodes_previews_at_full_size(
    model_cache: Any, publisher: RecordingPublisher, alice: Any
) -> None:
    loader = DiffusersLoader(model="tiny", device="cpu", cache_dir=model_cache, preview_vae="tiny-taesd")
    from generation.adapters.store import DjangoJobStore

    manager = ModelManager(store=DjangoJobStore(), publisher=publisher, loader=loader, preview_every=1)
    manager.load()
    queue_job(alice, steps=3, width=64, height=64)

    manager.run_once()

    assert manager.status.extra["preview"] == "taesd"
    previews = [event for _, event in publisher.events if event["type"] == "job.preview"]
    assert len(previews) == 3
    assert decode_preview(previews[0]).size == (64, 64)
