"""Fixed batch sizes on a GPU: every call is padded to 1, 2, 4, 8, 16 or 32 images.

A compiled UNet and VAE (``torch.compile`` with CUDA graphs) are specialised to their input
shapes; with any batch size allowed, each new size would compile on a live request. Padding to
a few buckets means the set of shapes is small and known, so all of them are compiled and
captured at start (``warm_up``), and a request never pays for it. The padding repeats the last
real image (its prompt and seed): with one CPU generator per image, the real images are the
ones an unpadded call draws, and the padding is dropped before anyone sees it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from generation.manager.types import JobSpec, PreviewSource, Slot, StepCallback

if TYPE_CHECKING:
    from PIL.Image import Image

    from generation.manager.pipelines import DiffusersPipeline

logger = logging.getLogger(__name__)

BUCKETS = (1, 2, 4, 8, 16, 32)
# Above this many images in one call the VAE decodes one image at a time (its activations at
# 512² and more would otherwise take more memory than the UNet).
VAE_SLICE_OVER = 16


def bucket_for(images: int, buckets: Sequence[int] = BUCKETS) -> int:
    """The smallest bucket that holds ``images``; past the largest, the images themselves."""
    for size in buckets:
        if images <= size:
            return size
    return images


def buckets_up_to(max_batch: int, buckets: Sequence[int] = BUCKETS) -> list[int]:
    """The buckets a worker with this batch limit can use (the limit's own bucket included)."""
    return sorted(
        {bucket_for(size, buckets) for size in buckets if size <= max_batch} | {bucket_for(max_batch, buckets)}
    )


def padded(slots: Sequence[Slot], buckets: Sequence[int] = BUCKETS) -> list[Slot]:
    """``slots`` and copies of the last one up to the bucket size."""
    size = bucket_for(len(slots), buckets)
    return list(slots) + [slots[-1]] * (size - len(slots))


class Unpadded:
    """A preview source that hides the padding: indices are the real images' anyway."""

    def __init__(self, source: PreviewSource) -> None:
        self.source = source

    def previews(self, indices: Sequence[int]) -> list[Image]:
        return self.source.previews(indices)

    def later(self, indices: Sequence[int]) -> Callable[[], list[Image]]:
        later = getattr(self.source, "later", None)
        if callable(later):
            split: Callable[[], list[Image]] = later(indices)
            return split
        images = self.source.previews(indices)
        return lambda: images


class BucketedPipeline:
    """Wraps a pipeline so every call has a bucket's batch size; the rest of the manager sees
    the real images only."""

    def __init__(self, inner: DiffusersPipeline, buckets: Sequence[int] = BUCKETS) -> None:
        self.inner = inner
        self.buckets = tuple(buckets)
        self.name = inner.name
        self.device = inner.device
        self.calls: list[int] = []  # bucket of each call, newest last (a few kept)

    def __getattr__(self, name: str) -> Any:  # pipe, preview_decoder, adapters ...
        return getattr(self.inner, name)

    def text_windows(self, job: JobSpec) -> int:
        return self.inner.text_windows(job)

    def generate(self, slots: Sequence[Slot], on_step: StepCallback) -> list[Image]:
        calls = padded(slots, self.buckets)
        vae = getattr(getattr(self.inner, "pipe", None), "vae", None)
        if vae is not None and hasattr(vae, "use_slicing"):
            vae.use_slicing = len(calls) > VAE_SLICE_OVER
        self.calls = [*self.calls[-15:], len(calls)]

        def step(done: int, total: int, source: PreviewSource) -> bool:
            return on_step(done, total, Unpadded(source) if source is not None else source)

        return self.inner.generate(calls, step)[: len(slots)]


def warm_up(
    pipeline: BucketedPipeline | DiffusersPipeline,
    buckets: Sequence[int],
    sizes: Sequence[int],
    *,
    steps: int = 1,
    rounds: int = 2,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Runs ``rounds`` calls per bucket and size so compilation and CUDA-graph capture happen
    now, before users (CUDA graphs record on the second call of a shape, after one eager run);
    answers seconds per ``"<bucket>@<size>"``, each logged as it finishes."""
    spent: dict[str, float] = {}
    for size in sizes:
        for bucket in buckets:
            started = clock()
            spec = JobSpec(
                id="warm-up", owner_id=0, prompt="warm-up", negative_prompt="", seed=0,
                steps=steps, guidance_scale=0.0, width=size, height=size, count=bucket,
            )  # fmt: skip
            for _ in range(rounds):
                pipeline.generate([Slot(spec, index) for index in range(bucket)], lambda step, total, source: False)
            spent[f"{bucket}@{size}"] = seconds = round(clock() - started, 3)
            logger.info("Warm-up: batch bucket %d at %dx%d ready in %.1f s", bucket, size, size, seconds)
    return spent
