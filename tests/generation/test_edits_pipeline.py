"""Image to image and inpainting on the real tiny pipeline: how much of the source survives."""

from __future__ import annotations

from typing import Any

import numpy
import pytest
from PIL import Image, ImageDraw

from generation.manager.edits import effective_steps, feathered_mask, steps_run
from generation.manager.pipelines import DiffusersPipeline
from generation.manager.types import JobKind, JobSpec, ModelStatus, Pipeline, Slot, batch_variant

SIZE = 64


def picture(seed: int) -> Image.Image:
    """A procedurally drawn source: 8x8 blocks of random colour (what the tiny VAE keeps exactly)."""
    blocks = numpy.random.default_rng(seed).integers(0, 256, size=(SIZE // 8, SIZE // 8, 3), dtype=numpy.uint8)
    return Image.fromarray(blocks).resize((SIZE, SIZE), Image.Resampling.NEAREST)


def square_mask() -> Image.Image:
    mask = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(mask).rectangle((16, 16, 47, 47), fill=255)
    return mask


def edit(
    source: Image.Image, strength: float, *, mask: Image.Image | None = None, seed: int = 5, steps: int = 4
) -> JobSpec:
    kind = JobKind.INPAINT if mask is not None else JobKind.EDIT
    return JobSpec(
        id=f"edit-{seed}-{strength}-{kind}", owner_id=1, prompt="make it snowy", negative_prompt="", seed=seed,
        steps=steps, guidance_scale=0.0, width=SIZE, height=SIZE, count=1, kind=kind, strength=strength,
        source=source, mask=mask, variant=batch_variant(kind, strength),
    )  # fmt: skip


def draw(pipeline: Pipeline, *specs: JobSpec) -> list[numpy.ndarray[Any, Any]]:
    images = pipeline.generate([Slot(spec, 0) for spec in specs], lambda step, total, source: False)
    return [numpy.asarray(image.convert("RGB"), dtype=numpy.float32) / 255 for image in images]


def distance(a: Any, b: Any) -> float:
    return float(numpy.abs(numpy.asarray(a, dtype=numpy.float32) - numpy.asarray(b, dtype=numpy.float32)).mean())


def as_array(image: Image.Image) -> numpy.ndarray[Any, Any]:
    return numpy.asarray(image, dtype=numpy.float32) / 255


@pytest.fixture
def pipeline(tiny_loaded: tuple[Pipeline, ModelStatus]) -> Pipeline:
    return tiny_loaded[0]


def test_a_little_strength_gives_back_almost_the_source(pipeline: Pipeline) -> None:
    first, second = as_array(picture(1)), as_array(picture(2))
    (from_first,) = draw(pipeline, edit(picture(1), 0.05))
    (from_second,) = draw(pipeline, edit(picture(2), 0.05))

    apart = distance(first, second)
    assert apart > 0.25
    assert distance(from_first, first) < 0.4 * apart
    assert distance(from_second, second) < 0.4 * apart
    assert distance(from_first, from_second) > 0.8 * apart  # the sources still tell them apart


def test_full_strength_ignores_the_source(pipeline: Pipeline) -> None:
    first, second = as_array(picture(1)), as_array(picture(2))
    (from_first,) = draw(pipeline, edit(picture(1), 1.0))
    (from_second,) = draw(pipeline, edit(picture(2), 1.0))

    assert distance(from_first, from_second) < 0.15 * distance(first, second)
    assert distance(from_first, first) > 0.25


def test_more_strength_moves_further_from_the_source(pipeline: Pipeline) -> None:
    source = as_array(picture(3))
    distances = [distance(draw(pipeline, edit(picture(3), strength))[0], source) for strength in (0.05, 0.5, 1.0)]

    assert distances == sorted(distances)


def test_a_mask_keeps_every_pixel_outside_it_and_changes_those_inside(pipeline: Pipeline) -> None:
    source, mask = picture(4), square_mask()
    (result,) = draw(pipeline, edit(source, 0.8, mask=mask))

    inside = numpy.asarray(mask) > 0
    change = numpy.abs(result - as_array(source)).max(axis=2)
    assert change[~inside].max() <= 2 / 255
    assert change[inside].mean() > 0.15


def test_edits_of_different_users_batched_in_one_call_equal_each_alone(pipeline: Pipeline) -> None:
    for mask in (None, square_mask()):
        alice = edit(picture(1), 0.5, mask=mask, seed=11)
        bob = edit(picture(2), 0.5, mask=mask, seed=12)
        bob = JobSpec(**{**bob.__dict__, "id": "bob", "owner_id": 2, "prompt": "add a moon"})

        together = draw(pipeline, alice, bob)
        alone = [draw(pipeline, alice)[0], draw(pipeline, bob)[0]]

        for batched, single in zip(together, alone, strict=True):
            assert numpy.abs(batched - single).max() <= 2 / 255


def test_few_step_models_edit_at_any_strength(pipeline: Pipeline) -> None:
    """SD-Turbo draws in 1 step; diffusers would refuse 1 x 0.3 < 1 step."""
    (result,) = draw(pipeline, edit(picture(5), 0.3, steps=1))

    assert result.shape == (SIZE, SIZE, 3)
    assert effective_steps(1, 0.3) == 4 and steps_run(1, 0.3) == 1
    assert effective_steps(4, 0.05) == 20 and steps_run(4, 0.05) == 1
    assert effective_steps(4, 0.5) == 4 and steps_run(4, 0.5) == 2


def test_progress_counts_the_steps_an_edit_runs(pipeline: Pipeline) -> None:
    seen: list[tuple[int, int]] = []

    def record(step: int, total: int, source: object) -> bool:
        seen.append((step, total))
        return False

    pipeline.generate([Slot(edit(picture(6), 0.5, steps=4), 0)], record)

    assert seen == [(1, 2), (2, 2)]


def test_edit_pipelines_share_the_resident_weights(pipeline: Pipeline) -> None:
    assert isinstance(pipeline, DiffusersPipeline)
    draw(pipeline, edit(picture(1), 0.5), edit(picture(2), 0.5, mask=square_mask()))
    for other in (pipeline.edits.image_to_image(), pipeline.edits.inpainting()):
        assert other.unet is pipeline.pipe.unet
        assert other.vae is pipeline.pipe.vae
        assert other.text_encoder is pipeline.pipe.text_encoder


def test_the_feathered_mask_fades_inside_the_painted_region_only() -> None:
    soft = numpy.asarray(feathered_mask(square_mask(), 2.0))
    inside = numpy.asarray(square_mask()) > 0

    assert soft[~inside].max() == 0
    assert soft[32, 32] == 255
    assert 0 < soft[17, 32] < 255


def test_an_inpainting_checkpoint_brings_only_its_own_unet(
    tiny_loaded: tuple[Pipeline, ModelStatus], tmp_path: Any
) -> None:
    """A 9-channel UNet (the mask and the masked picture as extra inputs), as
    ``WEE_WAA_INPAINT_MODEL``-style checkpoints have; the rest stays the resident pipeline's."""
    from diffusers import UNet2DConditionModel

    resident = tiny_loaded[0]
    assert isinstance(resident, DiffusersPipeline)
    config = dict(resident.pipe.unet.config)
    config["in_channels"] = 9
    UNet2DConditionModel.from_config(config).save_pretrained(tmp_path / "unet")
    pipeline = DiffusersPipeline(resident.pipe, "tiny", "cpu", inpaint_model=str(tmp_path))
    source, mask = picture(7), square_mask()

    (result,) = draw(pipeline, edit(source, 0.8, mask=mask))

    inpainting = pipeline.edits.inpainting()
    assert inpainting.unet.config.in_channels == 9 and inpainting.vae is resident.pipe.vae
    inside = numpy.asarray(mask) > 0
    change = numpy.abs(result - as_array(source)).max(axis=2)
    assert change[~inside].max() <= 2 / 255 and change[inside].mean() > 0.05
