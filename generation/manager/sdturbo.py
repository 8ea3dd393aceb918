"""SD-Turbo's full architecture with random weights: real speed and memory, no download.

A benchmark of batching, half precision or ``torch.compile`` only means something on the
real network size, and trained weights cost nothing more to run than random ones. So this
builds every component of ``stabilityai/sd-turbo`` (the Stable Diffusion 2.1 architecture)
from its published configs, fills it with random weights, saves it once with
``save_pretrained`` and lets the loader read it back with ``from_pretrained`` like any model.
It draws noise.

The configs below are copied from the published files (diffusers-format repository):

- https://huggingface.co/stabilityai/sd-turbo/blob/main/unet/config.json
  (same values as stabilityai/stable-diffusion-2-1-base/unet/config.json)
- https://huggingface.co/stabilityai/sd-turbo/blob/main/vae/config.json
- https://huggingface.co/stabilityai/sd-turbo/blob/main/text_encoder/config.json
  (the OpenCLIP ViT-H/14 text tower, 23 of its 24 layers, as a transformers ``CLIPTextModel``)
- https://huggingface.co/stabilityai/sd-turbo/blob/main/scheduler/scheduler_config.json
- stabilityai/stable-diffusion-2-1-base/tokenizer/tokenizer_config.json (model_max_length 77)

Only keys that differ from the library defaults matter to the shapes, but all published
architecture keys are kept so a reader can diff them against the hub files.

Weights are saved in float16 (2.6 GB instead of 5.2 GB); ``from_pretrained(...,
torch_dtype=...)`` casts them to whatever the device wants.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from generation.manager.tiny import build_once, tiny_vocab

SD_TURBO_RANDOM_NAME = "sd-turbo-random"
# Bump when the recipe below changes so old caches are rebuilt, not reused.
SD_TURBO_RANDOM_VERSION = "sd-turbo-random-v1"

CLIP_VOCAB_SIZE = 49408
CLIP_MAX_LENGTH = 77

UNET_CONFIG: dict[str, Any] = {
    "act_fn": "silu",
    "attention_head_dim": [5, 10, 20, 20],
    "block_out_channels": [320, 640, 1280, 1280],
    "center_input_sample": False,
    "cross_attention_dim": 1024,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1,
    "dual_cross_attention": False,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 4,
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "mid_block_type": "UNetMidBlock2DCrossAttn",
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "only_cross_attention": False,
    "out_channels": 4,
    "resnet_time_scale_shift": "default",
    "sample_size": 64,
    "time_embedding_type": "positional",
    "transformer_layers_per_block": 1,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    "upcast_attention": None,
    "use_linear_projection": True,
}

VAE_CONFIG: dict[str, Any] = {
    "act_fn": "silu",
    "block_out_channels": [128, 256, 512, 512],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "force_upcast": True,
    "in_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "out_channels": 3,
    "sample_size": 768,
    "scaling_factor": 0.18215,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
}

TEXT_ENCODER_CONFIG: dict[str, Any] = {
    "attention_dropout": 0.0,
    "bos_token_id": 0,
    "dropout": 0.0,
    "eos_token_id": 2,  # the legacy value: the pooled output then takes the highest id, as published
    "hidden_act": "gelu",
    "hidden_size": 1024,
    "initializer_factor": 1.0,
    "initializer_range": 0.02,
    "intermediate_size": 4096,
    "layer_norm_eps": 1e-05,
    "max_position_embeddings": CLIP_MAX_LENGTH,
    "num_attention_heads": 16,
    "num_hidden_layers": 23,
    "pad_token_id": 1,
    "projection_dim": 512,
    "vocab_size": CLIP_VOCAB_SIZE,
}

SCHEDULER_CONFIG: dict[str, Any] = {
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "beta_start": 0.00085,
    "interpolation_type": "linear",
    "num_train_timesteps": 1000,
    "prediction_type": "epsilon",
    "sigma_max": None,
    "sigma_min": None,
    "steps_offset": 1,
    "timestep_spacing": "trailing",
    "timestep_type": "discrete",
    "trained_betas": None,
    "use_karras_sigmas": False,
}


def sd_turbo_vocab() -> dict[str, int]:
    """The tiny pipeline's byte-level characters at the ids real CLIP gives them.

    CLIP's vocabulary starts with the 256 byte characters, then the same 256 with ``</w>``,
    then its merges, and ends with ``<|startoftext|>`` (49406) and ``<|endoftext|>`` (49407).
    We have no merges offline, so their ids are held by unused placeholders: the vocabulary
    has CLIP's size, any prompt tokenizes (one token per character), and every id fits the
    text encoder's embedding table.
    """
    characters = [token for token in tiny_vocab() if not token.startswith("<|")]
    vocab = {token: index for index, token in enumerate(characters)}
    for index in range(len(vocab), CLIP_VOCAB_SIZE - 2):
        vocab[f"<|unused{index}|>"] = index
    vocab["<|startoftext|>"] = CLIP_VOCAB_SIZE - 2
    vocab["<|endoftext|>"] = CLIP_VOCAB_SIZE - 1
    return vocab


def sd_turbo_tokenizer() -> Any:
    """A ``CLIPTokenizer`` over :func:`sd_turbo_vocab`; ``model_max_length`` must be 77 or
    prompts are neither truncated nor padded the way the text encoder expects."""
    from transformers import CLIPTokenizer

    # The special tokens are CLIPTokenizer's defaults (bos <|startoftext|>, eos/unk/pad <|endoftext|>),
    # as in stable-diffusion-2-1-base's tokenizer_config.json.
    return CLIPTokenizer(vocab=sd_turbo_vocab(), merges=[], model_max_length=CLIP_MAX_LENGTH)


def build_sd_turbo_random(target: Path, seed: int = 0) -> None:
    """Build and save the pipeline; peak memory is about the float32 UNet (3.5 GB)."""
    import torch
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    half = torch.float16
    # Each part is cast to half as soon as it exists, so the float32 copies never add up.
    unet = UNet2DConditionModel.from_config(UNET_CONFIG).to(half)
    vae = AutoencoderKL.from_config(VAE_CONFIG).to(half)
    text_encoder = CLIPTextModel(CLIPTextConfig(**TEXT_ENCODER_CONFIG)).to(half)
    tokenizer = sd_turbo_tokenizer()
    scheduler = EulerDiscreteScheduler.from_config(SCHEDULER_CONFIG)
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
    pipe.save_pretrained(target, safe_serialization=True)


def ensure_sd_turbo_random(cache_dir: Path) -> Path:
    """Build the pipeline into the cache once (about a minute on a laptop CPU)."""
    return build_once(cache_dir / SD_TURBO_RANDOM_VERSION, build_sd_turbo_random)
