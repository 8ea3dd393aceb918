"""The random SD-Turbo is the published architecture, checked without allocating its weights.

Every model is built on the ``meta`` device (shapes only, no memory, well under a second), and
its parameter count compared with the published Stable Diffusion 2.1 / SD-Turbo figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from generation.manager import sdturbo
from generation.manager.sdturbo import (
    SCHEDULER_CONFIG,
    TEXT_ENCODER_CONFIG,
    UNET_CONFIG,
    VAE_CONFIG,
    ensure_sd_turbo_random,
    sd_turbo_tokenizer,
)


def count_parameters(model: Any) -> int:
    return sum(parameter.numel() for parameter in model.parameters())


def test_the_unet_has_sd_2_1s_865_9_million_parameters() -> None:
    from diffusers import UNet2DConditionModel

    with torch.device("meta"):
        unet = UNet2DConditionModel.from_config(UNET_CONFIG)

    assert count_parameters(unet) == 865_910_724
    assert unet.config.sample_size * 8 == 512  # sd-turbo draws 512 px by default
    assert unet.config.cross_attention_dim == TEXT_ENCODER_CONFIG["hidden_size"]


def test_the_vae_has_83_7_million_parameters_and_the_sd_scaling_factor() -> None:
    from diffusers import AutoencoderKL

    with torch.device("meta"):
        vae = AutoencoderKL.from_config(VAE_CONFIG)

    assert count_parameters(vae) == 83_653_863
    assert vae.config.scaling_factor == 0.18215
    assert 2 ** (len(vae.config.block_out_channels) - 1) == 8  # latents are 1/8 of the image


def test_the_text_encoder_is_the_340_million_parameter_open_clip_h_tower() -> None:
    from transformers import CLIPTextConfig, CLIPTextModel

    with torch.device("meta"):
        text_encoder = CLIPTextModel(CLIPTextConfig(**TEXT_ENCODER_CONFIG))

    assert count_parameters(text_encoder) == 340_387_840
    assert text_encoder.config.num_hidden_layers == 23


def test_the_scheduler_uses_sd_turbos_trailing_timesteps() -> None:
    from diffusers import EulerDiscreteScheduler

    scheduler = EulerDiscreteScheduler.from_config(SCHEDULER_CONFIG)

    scheduler.set_timesteps(1)
    assert scheduler.timesteps.tolist() == [999]
    scheduler.set_timesteps(4)
    assert scheduler.timesteps.tolist() == [999, 749, 499, 249]


def test_the_tokenizer_gives_clip_ids_that_fit_the_text_encoder() -> None:
    tokenizer = sd_turbo_tokenizer()

    ids = tokenizer("a cat", padding="max_length", truncation=True).input_ids

    assert len(ids) == 77
    assert ids[:3] == [49406, 320, 66]  # <|startoftext|>, "a</w>", "c": the ids real CLIP uses
    assert max(ids) < TEXT_ENCODER_CONFIG["vocab_size"]
    assert len(tokenizer) == TEXT_ENCODER_CONFIG["vocab_size"]


def test_it_reuses_a_built_model_without_building_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = tmp_path / sdturbo.SD_TURBO_RANDOM_VERSION
    built.mkdir()
    (built / "model_index.json").write_text("{}")

    def must_not_build(target: Path, seed: int = 0) -> None:
        raise AssertionError("rebuilt a cached model")

    monkeypatch.setattr(sdturbo, "build_sd_turbo_random", must_not_build)

    assert ensure_sd_turbo_random(tmp_path) == built


def test_a_failed_build_leaves_no_half_written_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash_midway(target: Path, seed: int = 0) -> None:
        (target / "unet").mkdir()
        (target / "unet" / "config.json").write_text("{}")
        raise MemoryError("killed halfway")

    monkeypatch.setattr(sdturbo, "build_sd_turbo_random", crash_midway)

    with pytest.raises(MemoryError):
        ensure_sd_turbo_random(tmp_path)
    assert list(tmp_path.iterdir()) == []
