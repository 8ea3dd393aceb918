"""Edit jobs of different users share one pipeline call through the real queue, and each draws
what it draws alone; drawings and edits of other strengths keep to their own calls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy
import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generation import services
from generation.events import JobStatus
from generation.manager.types import Pipeline, Slot, StepCallback
from generation.manager.worker import ModelManager
from generation.models import GenerationJob
from tests.factories import drawn_background, queue_job

pytestmark = pytest.mark.django_db


class Calls:
    """The real tiny pipeline, recording which jobs each call drew."""

    def __init__(self, inner: Pipeline) -> None:
        self.inner = inner
        self.name = inner.name
        self.device = inner.device
        self.calls: list[set[str]] = []

    def text_windows(self, job: Any) -> int:
        return self.inner.text_windows(job)

    def generate(self, slots: Sequence[Slot], on_step: StepCallback) -> list[Any]:
        self.calls.append({slot.job.id for slot in slots})
        return self.inner.generate(slots, on_step)


def watch(manager: ModelManager) -> Calls:
    assert manager.pipeline is not None
    calls = Calls(manager.pipeline)
    manager.pipeline = calls
    return calls


def pixels(job: GenerationJob) -> numpy.ndarray[Any, Any]:
    image = job.images.get()
    with default_storage.open(image.image.name, "rb") as stored, Image.open(stored) as picture:
        return numpy.asarray(picture.convert("RGB"), dtype=numpy.int16)


def edit_job(owner: Any, source: Any, prompt: str, seed: int, strength: float = 0.5) -> GenerationJob:
    return services.job_create(owner=owner, prompt=prompt, source_image=source, strength=strength, seed=seed).job


def test_edits_of_different_users_share_a_call_and_draw_what_they_draw_alone(
    manager: ModelManager, alice: Any, bob: Any
) -> None:
    calls = watch(manager)
    alice_source, bob_source = drawn_background(alice, seed=1), drawn_background(bob, seed=2)
    together = [edit_job(alice, alice_source, "make it snowy", 10), edit_job(bob, bob_source, "add a moon", 20)]

    assert manager.run_once() is True
    assert calls.calls == [{job.id for job in together}]

    alone = []
    for job in together:
        alone.append(edit_job(job.owner, job.source_image, job.prompt, job.seed))
        assert manager.run_once() is True
    assert len(calls.calls) == 3
    for batched, single in zip(together, alone, strict=True):
        batched.refresh_from_db()
        single.refresh_from_db()
        assert batched.status == single.status == JobStatus.SUCCEEDED
        assert numpy.abs(pixels(batched) - pixels(single)).max() <= 2


def test_edits_do_not_share_a_call_with_drawings_or_other_strengths(
    manager: ModelManager, alice: Any, bob: Any
) -> None:
    calls = watch(manager)
    source = drawn_background(alice)
    jobs = [
        queue_job(alice, prompt="a snowy street"),
        edit_job(alice, source, "make it snowy", 1, strength=0.5),
        edit_job(bob, drawn_background(bob), "make it snowy", 2, strength=0.52),  # the same bucket
        edit_job(bob, drawn_background(bob), "make it snowy", 3, strength=0.9),
    ]

    while manager.run_once():
        pass

    assert sorted(sorted(call) for call in calls.calls) == sorted(
        [[jobs[0].id], sorted([jobs[1].id, jobs[2].id]), [jobs[3].id]]
    )
