"""Loading pipelines with diffusers' ``from_pretrained``, tuned for the device they run on."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generation.manager.buckets import BucketedPipeline, buckets_up_to, warm_up
from generation.manager.load_errors import load_failure_reason
from generation.manager.lora import AdapterCache
from generation.manager.pipelines import DiffusersPipeline
from generation.manager.preview import load_preview_decoder
from generation.manager.tiny import TINY_MODEL_NAME, ensure_tiny_pipeline
from generation.manager.types import ModelState, ModelStatus, Pipeline

logger = logging.getLogger(__name__)

SD_TURBO_RANDOM_NAME = "sd-turbo-random"

OFFLINE_DEMO_NOTE = (
    "The offline demo model is active: it draws noise. Set WEE_WAA_MODEL to a Hugging Face "
    "model id or a local diffusers folder to draw real pictures."
)


def resolve_device(requested: str) -> str:
    import torch

    if requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def torch_threads(requested: int, cores: int | None = None) -> int:
    """Torch's intra-op threads: ``requested``, or with 0 half the cores. Left at torch's
    default (every core) the drawing thread fights the web server's threads for the CPU: on two
    cores that made a job 1.4-4.9 times slower than one thread did."""
    if requested > 0:
        return requested
    return max(1, (cores if cores is not None else os.cpu_count() or 1) // 2)


def use_torch_threads(requested: int) -> int:
    import torch

    threads = torch_threads(requested)
    torch.set_num_threads(threads)
    # One pipeline call at a time: no parallel ops to schedule. Settable only before torch's
    # first parallel work; after that it stays as it was.
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    return threads


def pick_dtype(device: str, requested: str) -> Any:
    """Half precision on a GPU (fp16 unless bf16 is asked for); a CPU always stays fp32,
    where half precision is slower and less exact."""
    import torch

    if device != "cuda" or requested == "fp32":
        return torch.float32
    return torch.bfloat16 if requested == "bf16" else torch.float16


# Compiled graphs kept per function: one per bucket and warmed size, with room to spare.
COMPILED_SHAPES_KEPT = 64


def tune_for_device(
    pipe: Any, device: str, *, compile_unet: bool = False, compile_mode: str = "reduce-overhead"
) -> Any:
    """The GPU path: TF32 matmuls, PyTorch SDPA attention, channels-last convolutions and,
    when asked, ``torch.compile`` of the UNet and of the VAE's decoder with ``compile_mode``
    ("reduce-overhead": CUDA graphs, one per input shape; the batch buckets keep the shapes
    few, and the warm-up captures them all). Nothing changes on a CPU."""
    if device != "cuda":
        return pipe
    import torch
    from diffusers.models.attention_processor import AttnProcessor2_0

    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    for part in ("unet", "vae"):
        module = getattr(pipe, part, None)
        if module is None:
            continue
        if hasattr(module, "set_attn_processor"):
            module.set_attn_processor(AttnProcessor2_0())
        module.to(memory_format=torch.channels_last)
    if compile_unet:
        import torch._dynamo

        torch._dynamo.config.cache_size_limit = max(torch._dynamo.config.cache_size_limit, COMPILED_SHAPES_KEPT)
        if getattr(pipe, "unet", None) is not None:
            pipe.unet = torch.compile(pipe.unet, mode=compile_mode, fullgraph=False, dynamic=False)
        vae = getattr(pipe, "vae", None)
        if vae is not None and hasattr(vae, "decode"):
            # An attribute on the instance: diffusers calls ``self.vae.decode(...)``.
            vae.decode = torch.compile(vae.decode, mode=compile_mode, fullgraph=False, dynamic=False)
    return pipe


def _quiet_progress_bars() -> None:
    """Loading bars belong in a terminal session, not in a server's log."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()


@dataclass
class DiffusersLoader:
    """Turns ``WEE_WAA_MODEL`` into a resident pipeline, always through ``from_pretrained``.

    A hub id is tried from the local cache first, then downloaded; if neither works (no
    network, no cache) the tiny pipeline is loaded instead so the app still starts, and the
    status says the offline demo model is active.
    """

    model: str
    device: str = "auto"
    cache_dir: Path = Path(".data/models")
    allow_download: bool = True
    dtype: str = "auto"
    compile: bool = False
    preview_vae: str = ""
    warmup_size: int = 512
    threads: int = 0
    compile_mode: str = "reduce-overhead"
    warmup_sizes: tuple[int, ...] = ()
    buckets: bool = True
    max_batch: int = 16
    final_decoder: str = "vae"
    inpaint_model: str = ""  # an inpainting checkpoint whose UNet edits painted regions
    max_adapters: int = 4  # style adapters kept loaded (least recently used goes first)
    on_adapter_timing: Callable[[str, float], None] | None = None

    def load(self) -> tuple[Pipeline, ModelStatus]:
        _quiet_progress_bars()
        threads = use_torch_threads(self.threads)
        device = resolve_device(self.device)
        dtype = pick_dtype(device, self.dtype)
        status = ModelStatus(state=ModelState.READY, requested_model=self.model, device=device)
        status.extra["dtype"] = str(dtype).removeprefix("torch.")
        status.extra["torch_threads"] = threads
        try:
            pipe, status.model = self._load_named(device, dtype), self.model
        except Exception as exc:
            if self.model == TINY_MODEL_NAME:
                raise
            logger.warning("Could not load %s (%s); using the offline demo model", self.model, exc)
            pipe, status.model = self._load_tiny(device, dtype), TINY_MODEL_NAME
            status.error = load_failure_reason(self.model, exc, downloads=self.allow_download)[:500]
        status.demo = status.model == TINY_MODEL_NAME
        decoder = self._preview_decoder(device, dtype, status)
        status.extra["final_decoder"] = "vae"
        if self.final_decoder == "taesd" and decoder is not None:
            pipe.vae = decoder  # diffusers decodes with AutoencoderTiny as with its own VAE
            status.extra["final_decoder"] = "taesd"
        pipe = tune_for_device(pipe, device, compile_unet=self.compile, compile_mode=self.compile_mode)
        adapters = AdapterCache(pipe, max_loaded=self.max_adapters, on_timing=self.on_adapter_timing)
        pipeline: Pipeline = DiffusersPipeline(
            pipe, status.model, device, decoder, adapters=adapters, inpaint_model=self.inpaint_model
        )
        if device == "cuda":
            pipeline = self._warm_up_gpu(pipeline, status)
        return pipeline, status

    def _warm_up_gpu(self, pipeline: Pipeline, status: ModelStatus) -> Pipeline:
        """Buckets on a GPU, each warmed at every listed size before the worker takes jobs."""
        sizes = (64,) if status.demo else (self.warmup_sizes or (self.warmup_size,))
        buckets = buckets_up_to(self.max_batch) if self.buckets else [1]
        if self.buckets:
            pipeline = BucketedPipeline(pipeline)  # type: ignore[arg-type]
        started = time.perf_counter()
        status.extra["warmup_buckets"] = warm_up(pipeline, buckets, sizes)  # type: ignore[arg-type]
        status.extra["warmup_seconds"] = round(time.perf_counter() - started, 3)
        logger.info(
            "Warm-up done in %.1f s (%d buckets x %d sizes)", status.extra["warmup_seconds"], len(buckets), len(sizes)
        )
        return pipeline

    def _load_named(self, device: str, dtype: Any) -> Any:
        if self.model == TINY_MODEL_NAME:
            return self._load_tiny(device, dtype)
        if self.model == SD_TURBO_RANDOM_NAME:
            from generation.manager.sdturbo import ensure_sd_turbo_random

            return self._load_real(str(ensure_sd_turbo_random(self.cache_dir)), device, dtype)
        return self._load_real(self.model, device, dtype)

    def _load_tiny(self, device: str, dtype: Any) -> Any:
        from diffusers import AutoPipelineForText2Image

        path = ensure_tiny_pipeline(self.cache_dir)
        return AutoPipelineForText2Image.from_pretrained(path, local_files_only=True, dtype=dtype).to(device)

    def _load_real(self, model: str, device: str, dtype: Any) -> Any:
        from diffusers import AutoPipelineForText2Image

        kwargs: dict[str, Any] = {"dtype": dtype}
        if Path(model).is_dir():
            pipe = AutoPipelineForText2Image.from_pretrained(model, local_files_only=True, **kwargs)
        else:
            pipe = self._from_hub(AutoPipelineForText2Image, model, kwargs)
        pipe = pipe.to(device)
        if hasattr(pipe, "safety_checker"):
            pipe.safety_checker = None
        return pipe

    def _from_hub(self, cls: Any, model: str, kwargs: dict[str, Any]) -> Any:
        try:
            return cls.from_pretrained(model, local_files_only=True, **kwargs)
        except Exception:
            if not self.allow_download:
                raise
        logger.info("Downloading %s from the Hugging Face hub (first start only)", model)
        return cls.from_pretrained(model, **kwargs)

    def _preview_decoder(self, device: str, dtype: Any, status: ModelStatus) -> Any | None:
        """A preview decoder that cannot load costs the previews their detail, not the server."""
        status.extra["preview"] = "projection"
        try:
            decoder = load_preview_decoder(self.preview_vae, device, dtype, self.cache_dir)
        except Exception as exc:  # noqa: BLE001
            logger.warning("Preview decoder %s could not be loaded (%s); using the projection", self.preview_vae, exc)
            return None
        if decoder is not None:
            status.extra["preview"] = "taesd"
        return decoder
