"""Builders for the style tests: nearly uniform pictures and adapters trained on them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy
from PIL import Image

from generation.manager.loader import DiffusersLoader
from generation.manager.training import ALL_LAYERS, LoraTrainer, TrainingExample, TrainingSettings

LIGHT = (230, 200, 120)  # a light, warm yellow
OTHER = (120, 200, 230)


def uniform_pictures(colour: tuple[int, int, int], count: int = 10, size: int = 64, seed: int = 0) -> list[Image.Image]:
    rng = numpy.random.default_rng(seed)
    return [
        Image.fromarray(
            (numpy.full((size, size, 3), colour, dtype=float) + rng.normal(0, 4, (size, size, 3)))
            .clip(0, 255)
            .astype("uint8")
        )
        for _ in range(count)
    ]


def fresh_tiny(model_cache: Path) -> Any:
    """A pipeline of its own (adapters change the UNet; the session's shared one stays clean)."""
    pipeline, _status = DiffusersLoader(model="tiny", device="cpu", cache_dir=model_cache).load()
    return pipeline.pipe


def quick_settings(steps: int = 120, checkpoint_every: int = 1000, seed: int = 0) -> TrainingSettings:
    return TrainingSettings(
        steps=steps, rank=8, learning_rate=1e-2, resolution=64, batch_size=4,
        checkpoint_every=checkpoint_every, seed=seed, target_modules=ALL_LAYERS,
    )  # fmt: skip


def train_adapter(pipe: Any, colour: tuple[int, int, int], folder: Path, steps: int = 120) -> Path:
    examples = [TrainingExample(picture, "wee style") for picture in uniform_pictures(colour)]
    trainer = LoraTrainer(pipe, examples, quick_settings(steps), folder / "checkpoints")
    trainer.run_steps()
    adapter = trainer.export(folder / "adapter")
    trainer.close()
    return adapter


def mean_colour(picture: Image.Image) -> numpy.ndarray:
    return numpy.asarray(picture.convert("RGB"), dtype=float).reshape(-1, 3).mean(axis=0)
