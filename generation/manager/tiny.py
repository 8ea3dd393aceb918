"""The tiny random-weight pipeline: every real code path, no download, well under a second.

It is built from small configs, saved once with ``save_pretrained`` and always loaded back
through ``from_pretrained(..., local_files_only=True)`` like any real model. It draws noise.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

TINY_MODEL_NAME = "tiny"
# Bump when the recipe below changes so old caches are rebuilt, not reused.
TINY_VERSION = "tiny-sd-v1"


def _byte_level_alphabet() -> list[str]:
    """CLIP's byte-to-unicode table: every byte maps to one printable character."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return [chr(code) for code in codes]


def tiny_vocab() -> dict[str, int]:
    """Single-character vocabulary (no merges): small, yet any prompt tokenizes."""
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    alphabet = _byte_level_alphabet()
    for char in alphabet:
        vocab[char] = len(vocab)
    for char in alphabet:
        vocab[char + "</w>"] = len(vocab)
    return vocab


def build_tiny_pipeline(target: Path) -> None:
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    torch.manual_seed(0)
    vocab = tiny_vocab()
    # model_max_length must be 77 like real CLIP, or prompts are never truncated/padded right.
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(vocab),
            max_position_embeddings=77,
            projection_dim=32,
        )
    )
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=64,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=8,
        attention_head_dim=4,
    )
    # Four blocks give the same 8x latent downscale as real Stable Diffusion VAEs.
    vae = AutoencoderKL(
        block_out_channels=(8, 8, 16, 16),
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 4,
        up_block_types=["UpDecoderBlock2D"] * 4,
        latent_channels=4,
        norm_num_groups=8,
        layers_per_block=1,
        sample_size=512,
    )
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        timestep_spacing="trailing",
        steps_offset=1,
    )
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(target)


def build_once(target: Path, build: Callable[[Path], None], marker: str = "model_index.json") -> Path:
    """Build a model folder into the cache once; later calls return it at once.

    Built in a temporary sibling folder and renamed into place, so a crash or a second
    process never leaves a half-written model behind; the loser of a race throws its copy away.
    """
    if (target / marker).exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(scratch)
        for root, _dirs, files in os.walk(scratch):
            for name in files:
                os.chmod(Path(root) / name, 0o644)  # safetensors are saved 0600
        os.chmod(scratch, 0o755)  # noqa: S103 - a shared model cache is meant to be readable
        try:
            scratch.rename(target)
        except OSError:
            if not (target / marker).exists():  # someone else won the race
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def ensure_tiny_pipeline(cache_dir: Path) -> Path:
    return build_once(cache_dir / TINY_VERSION, build_tiny_pipeline)
