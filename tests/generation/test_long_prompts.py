"""Prompts longer than the text encoder reads at once are encoded in windows, not cut at 77 tokens.

The tiny model's tokenizer has one token per character (spaces apart), so 75 of them fill a window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from generation.events import JobStatus
from generation.manager.prompts import WINDOW, prompt_windows
from generation.manager.types import JobSpec, Pipeline, Slot, StepCallback
from generation.manager.worker import ModelManager
from generation.models import Style
from tests.factories import queue_job
from tests.generation.test_batching import pixels

pytestmark = pytest.mark.django_db

HEAD = "a quiet street in a cartoon town at sunset, houses with round windows, tall chimneys, a mailbox, "
LONG_SNOWY = HEAD + "thick snow on every roof and a snowman by the door"
LONG_SUNNY = HEAD + "bright green lawns and a red bicycle by the fence"


def differs(first: Any, second: Any) -> bool:
    return any((a - b).abs().max().item() > 0 for a, b in zip(pixels(first), pixels(second), strict=True))


class Calls:
    """The real pipeline, remembering which jobs shared each call."""

    def __init__(self, inner: Pipeline) -> None:
        self.inner, self.name, self.device = inner, inner.name, inner.device
        self.calls: list[set[str]] = []

    def text_windows(self, job: JobSpec) -> int:
        return self.inner.text_windows(job)

    def generate(self, slots: Sequence[Slot], on_step: StepCallback) -> list[Any]:
        self.calls.append({slot.job.id for slot in slots})
        return self.inner.generate(slots, on_step)


def test_the_words_after_the_first_window_still_change_the_picture(manager: ModelManager, alice: Any) -> None:
    assert len(HEAD.replace(" ", "")) > WINDOW  # the prompts differ only past the first window
    snowy = queue_job(alice, seed=11, prompt=LONG_SNOWY)
    manager.run_once()
    sunny = queue_job(alice, seed=11, prompt=LONG_SUNNY)
    manager.run_once()

    again = queue_job(alice, seed=11, prompt=LONG_SNOWY)
    manager.run_once()

    # Cut at 77 tokens, both prompts would draw the very same picture (as the same prompt does).
    assert differs(snowy, sunny)
    assert not differs(snowy, again)


def test_a_long_prompt_counts_its_windows_and_a_short_one_fills_one(manager: ModelManager) -> None:
    assert manager.pipeline is not None
    pipe = manager.pipeline.pipe  # type: ignore[attr-defined]
    assert prompt_windows(pipe, ["a hill"]) == 1
    assert prompt_windows(pipe, ["x" * WINDOW]) == 1
    assert prompt_windows(pipe, ["x" * (WINDOW + 1)]) == 2
    assert prompt_windows(pipe, ["a hill", "y" * (2 * WINDOW + 5)]) == 3


def test_long_and_short_prompts_draw_in_separate_calls_and_the_short_ones_picture_does_not_change(
    manager: ModelManager, alice: Any, bob: Any
) -> None:
    alone = queue_job(alice, seed=5, prompt="a snowy street")
    manager.run_once()
    assert manager.pipeline is not None
    watched = Calls(manager.pipeline)
    manager.pipeline = watched
    short = queue_job(alice, seed=5, prompt="a snowy street")
    long = queue_job(bob, seed=6, prompt=LONG_SNOWY)

    manager.run_once()

    assert sorted(map(sorted, watched.calls)) == sorted([[short.id], [long.id]])
    for job in (short, long):
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED
    for mine, reference in zip(pixels(short), pixels(alone), strict=True):
        assert (mine - reference).abs().max().item() <= 2


def test_a_long_negative_prompt_is_read_whole_too(manager: ModelManager, alice: Any) -> None:
    def style(name: str, negative: str) -> Style:
        return Style.objects.create(name=name, prompt_template="{prompt}", negative_prompt=negative, guidance_scale=5.0)

    first = queue_job(alice, seed=3, prompt="a hill", style=style("snowy", LONG_SNOWY))
    manager.run_once()
    second = queue_job(alice, seed=3, prompt="a hill", style=style("sunny", LONG_SUNNY))
    manager.run_once()

    for job in (first, second):
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED
    assert differs(first, second)
