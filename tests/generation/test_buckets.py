"""GPU batch buckets, warm-up reporting and out-of-memory detection, checked on the CPU."""

from __future__ import annotations

import logging
from typing import Any

import numpy
import pytest
import torch

from generation.manager.batch import is_out_of_memory
from generation.manager.buckets import BucketedPipeline, bucket_for, buckets_up_to, padded, warm_up
from generation.manager.types import JobSpec, ModelStatus, Pipeline, Slot


def spec(job_id: str, seed: int, count: int = 1) -> JobSpec:
    return JobSpec(
        id=job_id, owner_id=1, prompt=f"a street {job_id}", negative_prompt="", seed=seed,
        steps=2, guidance_scale=0.0, width=64, height=64, count=count,
    )  # fmt: skip


def test_a_batch_is_padded_to_the_next_bucket() -> None:
    assert [bucket_for(n) for n in (1, 2, 3, 5, 9, 17, 32, 40)] == [1, 2, 4, 8, 16, 32, 32, 40]
    assert buckets_up_to(16) == [1, 2, 4, 8, 16]
    assert buckets_up_to(12) == [1, 2, 4, 8, 16]
    slots = [Slot(spec("a", 1), 0), Slot(spec("b", 2), 0), Slot(spec("c", 3), 0)]
    assert padded(slots) == [*slots, slots[-1]]


def test_padding_leaves_the_real_images_as_an_unpadded_call_draws_them(
    tiny_loaded: tuple[Pipeline, ModelStatus],
) -> None:
    pipeline = tiny_loaded[0]
    slots = [Slot(spec("a", 10, count=2), 0), Slot(spec("a", 10, count=2), 1), Slot(spec("b", 20), 0)]
    steps: list[tuple[int, int]] = []

    plain = pipeline.generate(slots, lambda step, total, source: False)
    bucketed = BucketedPipeline(pipeline)  # type: ignore[arg-type]
    padded_images = bucketed.generate(slots, lambda step, total, source: steps.append((step, total)) or False)

    assert bucketed.calls == [4]
    assert steps == [(1, 2), (2, 2)]
    assert len(padded_images) == 3
    for one, other in zip(plain, padded_images, strict=True):
        assert numpy.array_equal(numpy.asarray(one), numpy.asarray(other))


def test_the_warm_up_runs_each_bucket_and_size_and_reports_its_seconds(
    tiny_loaded: tuple[Pipeline, ModelStatus], caplog: pytest.LogCaptureFixture
) -> None:
    bucketed = BucketedPipeline(tiny_loaded[0])  # type: ignore[arg-type]
    caplog.set_level(logging.INFO, logger="generation.manager.buckets")

    spent = warm_up(bucketed, [1, 2], [64], rounds=1)

    assert list(spent) == ["1@64", "2@64"]
    assert all(seconds >= 0 for seconds in spent.values())
    lines = [record.getMessage() for record in caplog.records]
    assert any("bucket 1 at 64x64" in line for line in lines)
    assert any("bucket 2 at 64x64" in line for line in lines)
    assert bucketed.calls == [1, 2]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (torch.OutOfMemoryError("CUDA out of memory"), True),
        (torch.cuda.OutOfMemoryError("anything at all"), True),
        (RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"), False),
        (ValueError("a prompt that says out of memory"), False),
    ],
)
def test_out_of_memory_is_told_by_the_exception_type_not_its_text(error: Any, expected: bool) -> None:
    assert is_out_of_memory(error) is expected
