"""The tiny random-weight pipeline: every real code path, no download, well under a second.

It is built from small configs, saved once with ``save_pretrained`` and always loaded back
through ``from_pretrained(..., local_files_only=True)`` like any real model. Its UNet and text
encoder are random, so it draws noise; its VAE is set by hand so that encoding averages 8x8
blocks of pixels and decoding repeats them (see ``make_vae_resample``): edits of a picture
then start from that picture, and decoded pictures follow their latents.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

TINY_MODEL_NAME = "tiny"
# Bump when the recipe below changes so old caches are rebuilt, not reused.
TINY_VERSION = "tiny-sd-v2"
# The constant fed through the VAE's last group norms; see ``make_vae_resample``.
_NORM_ANCHOR = 100.0
# Shifts values into the part of SiLU that is (almost exactly) the identity.
_SILU_SHIFT = 16.0


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
        norm_num_groups=1,
        layers_per_block=1,
        sample_size=512,
        scaling_factor=1.0,
        mid_block_add_attention=False,
    )
    make_vae_resample(vae)
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


def make_vae_resample(vae: Any) -> None:
    """Sets an ``AutoencoderKL``'s weights so that encoding is an 8x8 block average of the RGB
    pixels (latent channels R, G, B, 0) and decoding repeats each latent pixel 8x8 times.

    Training a VAE, even briefly, would cost every fresh test run and CI job time; these weights
    are exact. Every residual block adds nothing (its last convolution is zero), downsamplers
    average 2x2, upsamplers copy. The two group norms that cannot be skipped (before each
    ``conv_out``) see one group holding +x, -x and a large constant: the mean is then known
    exactly and the spread changes by under 1e-3, so the norm's affine parameters undo it.
    """
    import torch
    from diffusers.models.downsampling import Downsample2D
    from diffusers.models.resnet import ResnetBlock2D
    from diffusers.models.upsampling import Upsample2D

    def identity_tap(conv: Any, pairs: list[tuple[int, int, float]], row: int = 1, col: int = 1) -> None:
        conv.weight.zero_()
        if conv.bias is not None:
            conv.bias.zero_()
        for out_ch, in_ch, value in pairs:
            conv.weight[out_ch, in_ch, row, col] = value

    def same(conv: Any) -> list[tuple[int, int, float]]:
        return [(ch, ch, 1.0) for ch in range(min(conv.in_channels, conv.out_channels))]

    def anchored_norm(norm: Any, channels: int) -> None:
        # Channels 0-2 carry x, 3-5 carry -x (their means cancel), channel 6 the anchor.
        mean = _NORM_ANCHOR / channels
        spread = (_NORM_ANCHOR**2 / channels - mean**2 + norm.eps) ** 0.5
        norm.weight.zero_()
        norm.bias.zero_()
        norm.weight[:3] = spread
        norm.bias[:3] = mean + _SILU_SHIFT

    with torch.no_grad():
        for module in vae.modules():
            if isinstance(module, ResnetBlock2D):
                module.conv2.weight.zero_()
                module.conv2.bias.zero_()
                if module.conv_shortcut is not None:
                    identity_tap(module.conv_shortcut, same(module.conv_shortcut), 0, 0)
            elif isinstance(module, Downsample2D):
                # diffusers pads right and bottom by one, so taps [0:2, 0:2] read one 2x2 block.
                identity_tap(module.conv, [])
                for ch in range(module.conv.out_channels):
                    module.conv.weight[ch, ch, 0:2, 0:2] = 0.25
            elif isinstance(module, Upsample2D):
                identity_tap(module.conv, same(module.conv))
        for coder in (vae.encoder, vae.decoder):
            # Encoder: from RGB; decoder: from the latent's first three channels.
            identity_tap(coder.conv_in, [(ch, ch, 1.0) for ch in range(3)] + [(ch + 3, ch, -1.0) for ch in range(3)])
            last = coder.mid_block.resnets[-1] if coder is vae.encoder else coder.up_blocks[-1].resnets[-1]
            last.conv2.bias[6] = _NORM_ANCHOR
            anchored_norm(coder.conv_norm_out, coder.conv_norm_out.num_channels)
            identity_tap(coder.conv_out, [(ch, ch, 1.0) for ch in range(3)])
            coder.conv_out.bias[:3] = -_SILU_SHIFT
        # The encoder's second half is the log-variance: as small as allowed, so sampling the
        # latent distribution gives its mean.
        vae.encoder.conv_out.bias[vae.config.latent_channels :] = -30.0
        for conv in (vae.quant_conv, vae.post_quant_conv):
            identity_tap(conv, same(conv), 0, 0)


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
