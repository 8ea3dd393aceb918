"""Loading pipelines with diffusers' ``from_pretrained`` and running one job on them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generation.manager.tiny import TINY_MODEL_NAME, ensure_tiny_pipeline
from generation.manager.types import JobSpec, ModelStatus, StepCallback

if TYPE_CHECKING:
    from PIL.Image import Image

logger = logging.getLogger(__name__)

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


class DiffusersPipeline:
    """A resident text-to-image pipeline. Only the manager's worker thread calls it:
    schedulers keep state and tokenizers are not thread-safe."""

    def __init__(self, pipe: Any, name: str, device: str) -> None:
        self.pipe = pipe
        self.name = name
        self.device = device
        pipe.set_progress_bar_config(disable=True)

    def generate(self, spec: JobSpec, on_step: StepCallback) -> list[Image]:
        import torch

        # CPU generators: the same seed draws the same picture on any device.
        generators = [torch.Generator(device="cpu").manual_seed(seed) for seed in spec.seeds()]

        def step_end(pipe: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
            on_step(step + 1, spec.steps)
            return callback_kwargs

        use_negative = spec.guidance_scale > 1.0 and bool(spec.negative_prompt)
        with torch.inference_mode():
            result = self.pipe(
                prompt=[spec.prompt] * spec.count,
                negative_prompt=[spec.negative_prompt] * spec.count if use_negative else None,
                num_inference_steps=spec.steps,
                guidance_scale=spec.guidance_scale,
                width=spec.width,
                height=spec.height,
                generator=generators,
                callback_on_step_end=step_end,
                output_type="pil",
            )
        images: list[Image] = list(result.images)
        return images


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

    def load(self) -> tuple[DiffusersPipeline, ModelStatus]:
        _quiet_progress_bars()
        device = resolve_device(self.device)
        status = ModelStatus(state="ready", requested_model=self.model, device=device)
        if self.model == TINY_MODEL_NAME:
            pipe = self._load_tiny(device)
            status.model, status.demo = TINY_MODEL_NAME, True
            return DiffusersPipeline(pipe, TINY_MODEL_NAME, device), status
        try:
            pipe = self._load_real(device)
            status.model = self.model
            return DiffusersPipeline(pipe, self.model, device), status
        except Exception as exc:  # noqa: BLE001 - any load failure falls back to the demo model
            logger.warning("Could not load %s (%s); using the offline demo model", self.model, exc)
            pipe = self._load_tiny(device)
            status.model, status.demo = TINY_MODEL_NAME, True
            status.error = f"{self.model} could not be loaded (not cached here, and not downloadable: {exc})"[:500]
            return DiffusersPipeline(pipe, TINY_MODEL_NAME, device), status

    def _load_tiny(self, device: str) -> Any:
        from diffusers import AutoPipelineForText2Image

        path = ensure_tiny_pipeline(self.cache_dir)
        return AutoPipelineForText2Image.from_pretrained(path, local_files_only=True).to(device)

    def _load_real(self, device: str) -> Any:
        import torch
        from diffusers import AutoPipelineForText2Image

        dtype = torch.float16 if device == "cuda" else torch.float32
        kwargs: dict[str, Any] = {"torch_dtype": dtype}
        if Path(self.model).is_dir():
            pipe = AutoPipelineForText2Image.from_pretrained(self.model, local_files_only=True, **kwargs)
        else:
            pipe = self._from_hub(AutoPipelineForText2Image, kwargs)
        pipe = pipe.to(device)
        if hasattr(pipe, "safety_checker"):
            pipe.safety_checker = None
        return pipe

    def _from_hub(self, cls: Any, kwargs: dict[str, Any]) -> Any:
        try:
            return cls.from_pretrained(self.model, local_files_only=True, **kwargs)
        except Exception:
            if not self.allow_download:
                raise
        logger.info("Downloading %s from the Hugging Face hub (first start only)", self.model)
        return cls.from_pretrained(self.model, **kwargs)
