"""Styles with LoRA adapters draw through the real manager: one adapter per pipeline call,
the same pixels as drawing alone, and weight 0 exactly the base model."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy
import pytest
from django.core.files import File
from django.core.files.storage import default_storage
from PIL import Image

from generation.events import JobStatus
from generation.manager.lora import AdapterCache
from generation.manager.pipelines import DiffusersPipeline
from generation.manager.types import AdapterRef, JobSpec, ModelState, ModelStatus, Slot, StepCallback
from generation.manager.worker import ModelManager
from generation.models import GenerationJob, Style
from generation.style_adapters import file_sha256
from tests.doubles import RecordingPublisher
from tests.factories import queue_job
from tests.generation.style_helpers import LIGHT, OTHER, fresh_tiny, train_adapter
from tests.pipelines import PreloadedLoader

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def styled(model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path, Path]:
    """A pipeline of this module's own, and two adapters trained on it (light and blue-ish)."""
    pipe = fresh_tiny(model_cache)
    folder = tmp_path_factory.mktemp("adapters")
    return pipe, train_adapter(pipe, LIGHT, folder / "light", 60), train_adapter(pipe, OTHER, folder / "other", 60)


class Recorder:
    def __init__(self, inner: DiffusersPipeline) -> None:
        self.inner, self.name, self.device = inner, inner.name, inner.device
        self.calls: list[list[str]] = []

    def text_windows(self, job: JobSpec) -> int:
        return self.inner.text_windows(job)

    def generate(self, slots: Sequence[Slot], on_step: StepCallback) -> list[Any]:
        self.calls.append([slot.job.id for slot in slots])
        return self.inner.generate(slots, on_step)


def style_with(adapter: Path, name: str, weight: float = 1.0) -> Style:
    style = Style(name=name, prompt_template="{prompt}", default_steps=2, default_width=64, default_height=64)
    with adapter.open("rb") as handle:
        style.lora_sha256 = file_sha256(handle)
        style.lora.save(f"{name}.safetensors", File(handle), save=False)
    style.lora_weight = weight
    style.save()
    return style


def pixels(job: GenerationJob) -> numpy.ndarray:
    image = job.images.get()
    with default_storage.open(image.image.name, "rb") as stored, Image.open(stored) as picture:
        return numpy.asarray(picture.convert("RGB"), dtype=numpy.int16)


def alone(pipeline: DiffusersPipeline, job: GenerationJob) -> numpy.ndarray:
    from generation.adapters.specs import job_spec

    picture = pipeline.generate([Slot(job_spec(job), 0)], lambda step, total, source: False)[0]
    return numpy.asarray(picture.convert("RGB"), dtype=numpy.int16)


def manager_for(pipeline: Any) -> ModelManager:
    status = ModelStatus(state=ModelState.READY, model="tiny", device="cpu")
    manager = ModelManager(
        store=Default_store(), publisher=RecordingPublisher(), loader=PreloadedLoader((pipeline, status)),
        preview_every=0,
    )  # fmt: skip
    manager.load()
    return manager


def Default_store() -> Any:
    from generation.adapters.store import DjangoJobStore

    return DjangoJobStore()


def test_two_styles_with_different_adapters_never_share_a_call_and_draw_as_alone(
    styled: tuple[Any, Path, Path], alice: Any, bob: Any
) -> None:
    pipe, light, other = styled
    cache = AdapterCache(pipe, max_loaded=4)
    pipeline = DiffusersPipeline(pipe, "tiny", "cpu", adapters=cache)
    recorder = Recorder(pipeline)
    manager = manager_for(recorder)
    sunny, cool = style_with(light, "Sunny"), style_with(other, "Cool")
    jobs = [
        queue_job(alice, style=sunny, seed=5, width=64, height=64),
        queue_job(bob, style=cool, seed=5, width=64, height=64),
        queue_job(alice, style=None, seed=5, width=64, height=64),
        queue_job(bob, style=sunny, seed=9, width=64, height=64),
    ]
    for job in jobs:
        job.refresh_from_db()

    while manager.run_once():
        pass

    style_of = {job.id: job.adapter.get("key", "") for job in jobs}
    for call in recorder.calls:
        assert len({style_of[job_id] for job_id in call}) == 1, call
    assert sorted(job_id for call in recorder.calls for job_id in call) == sorted(job.id for job in jobs)
    for job in jobs:
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert numpy.abs(pixels(job) - alone(pipeline, job)).max() <= 2
    assert cache.times.loads == 2 and cache.times.switches >= 3
    drawn = {job.id: pixels(job) for job in jobs}
    assert numpy.abs(drawn[jobs[0].id] - drawn[jobs[1].id]).mean() > 1  # the adapters change the picture
    assert numpy.abs(drawn[jobs[0].id] - drawn[jobs[2].id]).mean() > 1
    cache.clear()


def spec(adapter: AdapterRef | None) -> JobSpec:
    return JobSpec(
        id="one", owner_id=1, prompt="wee style", negative_prompt="", seed=3, steps=2, guidance_scale=0.0,
        width=64, height=64, count=1, adapter=adapter,
    )  # fmt: skip


def draw(pipeline: DiffusersPipeline, adapter: AdapterRef | None) -> numpy.ndarray:
    picture = pipeline.generate([Slot(spec(adapter), 0)], lambda step, total, source: False)[0]
    return numpy.asarray(picture, dtype=numpy.int16)


def test_weight_zero_draws_exactly_the_base_model(styled: tuple[Any, Path, Path]) -> None:
    pipe, light, _other = styled
    pipeline = DiffusersPipeline(pipe, "tiny", "cpu", adapters=AdapterCache(pipe))
    ref = AdapterRef(key="style_light", path=str(light), sha256="x", weight=1.0)

    base = draw(pipeline, None)
    styled_picture = draw(pipeline, ref)
    zero = draw(pipeline, dataclasses.replace(ref, weight=0.0))
    base_again = draw(pipeline, None)

    assert numpy.array_equal(zero, base)
    assert numpy.array_equal(base_again, base)
    assert numpy.abs(styled_picture - base).mean() > 1
    pipeline.adapters.clear()  # type: ignore[union-attr]


def test_the_cache_keeps_at_most_its_bound_and_unloads_the_least_recently_used(
    styled: tuple[Any, Path, Path],
) -> None:
    pipe, light, other = styled
    timings: list[tuple[str, float]] = []
    cache = AdapterCache(pipe, max_loaded=1, on_timing=lambda event, seconds: timings.append((event, seconds)))
    pipeline = DiffusersPipeline(pipe, "tiny", "cpu", adapters=cache)
    first = AdapterRef(key="style_first", path=str(light), sha256="a", weight=1.0)
    second = AdapterRef(key="style_second", path=str(other), sha256="b", weight=1.0)

    before = draw(pipeline, first)
    draw(pipeline, second)
    after = draw(pipeline, first)

    assert cache.loaded == ["style_first"]
    assert cache.times.evicted == ["style_first", "style_second"]
    assert "style_first" in pipe.unet.peft_config and "style_second" not in pipe.unet.peft_config
    assert numpy.abs(after - before).max() <= 1  # reloaded, same picture
    assert [event for event, _seconds in timings].count("load") == 3
    cache.clear()
