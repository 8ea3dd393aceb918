"""Training a style's LoRA adapter on the resident pipeline, a few steps at a time.

The recipe is diffusers' ``train_text_to_image_lora.py``: a peft ``LoraConfig`` on the UNet's
attention projections (``to_q``, ``to_k``, ``to_v``, ``to_out.0``), the pictures' latents noised
at random timesteps, and the MSE between the UNet's prediction and the noise (or the velocity,
for v-prediction models). The base weights stay frozen and shared with drawing: the training
adapter is switched on only while a training step runs, so batches between steps draw as before.

Each step's randomness comes from ``seed`` and the step number alone, and checkpoints keep the
adapter and the optimizer's moments (as safetensors, never pickle), so a run resumed after a
restart continues exactly where the last checkpoint left it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

TRAINING_ADAPTER = "wee_training"
ATTENTION_PROJECTIONS = ["to_q", "to_k", "to_v", "to_out.0"]
ALL_LAYERS = (*ATTENTION_PROJECTIONS, "proj_in", "proj_out", "conv1", "conv2", "conv_in", "conv_out", "time_emb_proj")
ADAPTER_FILE = "pytorch_lora_weights.safetensors"  # the name load_lora_weights looks for
KEEP_CHECKPOINTS = 2

# (step done, total steps, loss of that step) → True to stop (cancelled).
TrainingStep = Callable[[int, int, float], bool]


@dataclass(frozen=True)
class TrainingSettings:
    steps: int = 500
    rank: int = 4
    learning_rate: float = 1e-4
    resolution: int = 512
    batch_size: int = 1
    checkpoint_every: int = 50
    seed: int = 0
    max_grad_norm: float = 1.0
    # The recipe trains the attention projections only; ``ALL_LAYERS`` adds the convolutions
    # and projections around them, for models (like the tiny random one) whose attention alone
    # cannot carry a look.
    target_modules: tuple[str, ...] = tuple(ATTENTION_PROJECTIONS)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingSettings:
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        if "target_modules" in known:
            known["target_modules"] = tuple(known["target_modules"])
        return cls(**known)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrainingExample:
    image: Image
    caption: str


@dataclass
class TrainingState:
    """What a checkpoint remembers besides tensors."""

    step: int = 0
    losses: list[float] = field(default_factory=list)


def _square(image: Image, size: int) -> Image:
    """Centre crop to a square, then resize: the recipe's ``CenterCrop`` + ``Resize``."""
    from PIL import Image as PILImage

    image = image.convert("RGB")
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    return image.crop((left, top, left + side, top + side)).resize((size, size), PILImage.Resampling.BICUBIC)


def checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints (their ``state.json`` is written last), oldest first."""
    found = [path for path in folder.glob("checkpoint-*") if (path / "state.json").exists()]
    return sorted(found, key=lambda path: int(path.name.removeprefix("checkpoint-")))


class LoraTrainer:
    """One style's training on ``pipe`` (a diffusers text-to-image pipeline). The caller runs
    ``run_steps`` in slices; between slices the training adapter is off and the pipeline draws
    as if it were not there."""

    def __init__(
        self, pipe: Any, examples: Sequence[TrainingExample], settings: TrainingSettings, checkpoint_dir: Path
    ) -> None:
        if not examples:
            raise ValueError("A style needs pictures to learn from")
        self.pipe = pipe
        self.settings = settings
        self.checkpoint_dir = Path(checkpoint_dir)
        self.state = TrainingState()
        self._examples = list(examples)
        self._prepared = False
        self._latents: Any = None
        self._texts: Any = None
        self._params: list[Any] = []
        self._optimizer: Any = None
        self._scheduler: Any = None

    # ---- lifecycle --------------------------------------------------------------------------

    @property
    def done(self) -> bool:
        return self.state.step >= self.settings.steps

    def prepare(self) -> None:
        """Encodes the pictures and captions once (the frozen VAE and text encoder would give
        the same answer every step), adds the training adapter and resumes the last checkpoint."""
        import torch
        from diffusers import DDPMScheduler
        from peft import LoraConfig

        unet = self.pipe.unet
        device, dtype = unet.device, unet.dtype
        size = self.settings.resolution
        with torch.no_grad():
            pixels = torch.stack([self._pixels(example.image, size) for example in self._examples])
            latents = []
            for start in range(0, len(pixels), 8):
                chunk = pixels[start : start + 8].to(device, self.pipe.vae.dtype)
                latents.append(self.pipe.vae.encode(chunk).latent_dist.mode() * self.pipe.vae.config.scaling_factor)
            self._latents = torch.cat(latents).to(dtype)
            ids = self.pipe.tokenizer(
                [example.caption for example in self._examples],
                padding="max_length",
                max_length=self.pipe.tokenizer.model_max_length,
                truncation=True,
                return_tensors="pt",
            ).input_ids.to(device)
            self._texts = self.pipe.text_encoder(ids, return_dict=False)[0].to(dtype)
        self._scheduler = DDPMScheduler.from_config(self.pipe.scheduler.config)
        if TRAINING_ADAPTER in getattr(unet, "peft_config", {}):
            unet.delete_adapters([TRAINING_ADAPTER])  # left by a run that ended without cleaning up
        config = LoraConfig(
            r=self.settings.rank,
            lora_alpha=self.settings.rank,
            init_lora_weights="gaussian",
            target_modules=list(self.settings.target_modules),
        )
        with torch.random.fork_rng(devices=[]):  # the same seed starts from the same weights
            torch.manual_seed(self.settings.seed)
            unet.add_adapter(config, adapter_name=TRAINING_ADAPTER)
        self._params = []
        for name, param in unet.named_parameters():
            if f".{TRAINING_ADAPTER}." in name and "lora_" in name:
                param.data = param.data.float()  # LoRA weights train in fp32 even on a half model
                self._params.append(param)
        self._optimizer = torch.optim.AdamW(self._params, lr=self.settings.learning_rate)
        self._prepared = True
        self._resume()
        self.detach()

    def attach(self) -> None:
        unet = self.pipe.unet
        unet.enable_lora()
        unet.set_adapter(TRAINING_ADAPTER)  # only this one, and its weights require grad

    def detach(self) -> None:
        """Between slices: no adapter is active, so the next batch's ``activate`` starts clean."""
        self.pipe.unet.disable_lora()

    def close(self) -> None:
        """Removes the training adapter from the pipeline (the run ended, one way or another)."""
        unet = self.pipe.unet
        if TRAINING_ADAPTER in getattr(unet, "peft_config", {}):
            unet.delete_adapters([TRAINING_ADAPTER])
        self._optimizer = None
        self._params = []
        self._prepared = False

    # ---- steps ------------------------------------------------------------------------------

    def run_steps(
        self,
        *,
        max_steps: int | None = None,
        budget_seconds: float | None = None,
        should_yield: Callable[[], bool] | None = None,
        on_step: TrainingStep | None = None,
    ) -> str:
        """Trains until done, cancelled, out of budget or asked to yield; returns which
        ("done", "cancelled", "paused"). Always leaves the training adapter off."""
        if not self._prepared:
            self.prepare()
        started = time.monotonic()
        ran = 0
        self.attach()
        try:
            while not self.done:
                if ran and should_yield is not None and should_yield():
                    return "paused"
                if max_steps is not None and ran >= max_steps:
                    return "paused"
                if ran and budget_seconds is not None and time.monotonic() - started >= budget_seconds:
                    return "paused"
                loss = self.step()
                ran += 1
                if self.state.step % self.settings.checkpoint_every == 0 or self.done:
                    self.save_checkpoint()
                if on_step is not None and on_step(self.state.step, self.settings.steps, loss):
                    return "cancelled"
            return "done"
        finally:
            self.detach()

    def step(self) -> float:
        import torch

        loss = self._loss(torch.Generator().manual_seed(self.settings.seed * 1_000_003 + self.state.step))
        loss.backward()
        if self.settings.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(self._params, self.settings.max_grad_norm)
        self._optimizer.step()
        self._optimizer.zero_grad(set_to_none=True)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(f"The training loss became {value} at step {self.state.step + 1}")
        self.state.step += 1
        self.state.losses.append(round(value, 6))
        return value

    def evaluation_loss(self, samples: int = 16) -> float:
        """The loss on fixed noise at evenly spread timesteps, without learning from it: a
        steadier measure of progress than the training steps' noisy losses."""
        import torch

        if not self._prepared:
            self.prepare()
        self.attach()
        try:
            with torch.no_grad():
                generator = torch.Generator().manual_seed(12345)
                total = 0.0
                count = self._scheduler.config.num_train_timesteps
                for index in range(samples):
                    timestep = int((index + 0.5) * count / samples)
                    total += float(self._loss(generator, timestep=timestep))
            return total / samples
        finally:
            self.detach()

    def _loss(self, generator: Any, timestep: int | None = None) -> Any:
        import torch
        import torch.nn.functional as F

        count = self._latents.shape[0]
        batch = min(self.settings.batch_size, count)
        picks = torch.randint(0, count, (batch,), generator=generator)
        latents = self._latents[picks.to(self._latents.device)]
        texts = self._texts[picks.to(self._texts.device)]
        noise = torch.randn(latents.shape, generator=generator, dtype=torch.float32).to(latents)
        if timestep is None:
            timesteps = torch.randint(0, self._scheduler.config.num_train_timesteps, (batch,), generator=generator)
        else:
            timesteps = torch.full((batch,), timestep, dtype=torch.long)
        timesteps = timesteps.to(latents.device)
        noisy = self._scheduler.add_noise(latents, noise, timesteps)
        if self._scheduler.config.prediction_type == "v_prediction":
            target = self._scheduler.get_velocity(latents, noise, timesteps)
        else:
            target = noise
        prediction = self.pipe.unet(noisy, timesteps, texts, return_dict=False)[0]
        return F.mse_loss(prediction.float(), target.float(), reduction="mean")

    @staticmethod
    def _pixels(image: Image, size: int) -> Any:
        import numpy as np
        import torch

        array = np.asarray(_square(image, size), dtype=np.float32) / 127.5 - 1.0
        return torch.from_numpy(array).permute(2, 0, 1)

    # ---- checkpoints and the result -----------------------------------------------------------

    def _lora_state(self) -> dict[str, Any]:
        from peft.utils import get_peft_model_state_dict

        state = get_peft_model_state_dict(self.pipe.unet, adapter_name=TRAINING_ADAPTER)
        return {name: tensor.detach().float().cpu().contiguous() for name, tensor in state.items()}

    def save_checkpoint(self) -> Path:
        """Written into a scratch folder and renamed, ``state.json`` last: a crash mid-write
        leaves the previous checkpoint as the one to resume."""
        from safetensors.torch import save_file

        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        target = self.checkpoint_dir / f"checkpoint-{self.state.step}"
        scratch = self.checkpoint_dir / f".scratch-{self.state.step}-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        scratch.mkdir()
        save_file(self._lora_state(), str(scratch / "adapter.safetensors"))
        moments: dict[str, Any] = {}
        for index, param in enumerate(self._params):
            for name, value in self._optimizer.state.get(param, {}).items():
                moments[f"{index}.{name}"] = value.detach().cpu().reshape(value.shape).contiguous()
        save_file(moments, str(scratch / "optimizer.safetensors"))
        (scratch / "state.json").write_text(json.dumps(asdict(self.state)))
        shutil.rmtree(target, ignore_errors=True)
        scratch.rename(target)
        for old in checkpoints(self.checkpoint_dir)[:-KEEP_CHECKPOINTS]:
            shutil.rmtree(old, ignore_errors=True)
        return target

    def _resume(self) -> None:
        from peft.utils import set_peft_model_state_dict
        from safetensors.torch import load_file

        found = checkpoints(self.checkpoint_dir) if self.checkpoint_dir.exists() else []
        if not found:
            return
        latest = found[-1]
        set_peft_model_state_dict(self.pipe.unet, load_file(str(latest / "adapter.safetensors")), TRAINING_ADAPTER)
        moments = load_file(str(latest / "optimizer.safetensors"))
        state: dict[int, dict[str, Any]] = {}
        for key, value in moments.items():
            index, name = key.split(".", 1)
            state.setdefault(int(index), {})[name] = value.to(self._params[int(index)].device)
        saved = self._optimizer.state_dict()
        saved["state"] = state
        self._optimizer.load_state_dict(saved)
        values = json.loads((latest / "state.json").read_text())
        self.state = TrainingState(step=int(values["step"]), losses=[float(loss) for loss in values["losses"]])

    def export(self, folder: Path) -> Path:
        """The adapter in diffusers' LoRA format (``unet.`` keys, safetensors), which
        ``load_lora_weights`` reads like any adapter downloaded from the hub."""
        from diffusers import StableDiffusionPipeline
        from diffusers.utils import convert_state_dict_to_diffusers

        folder.mkdir(parents=True, exist_ok=True)
        layers = convert_state_dict_to_diffusers(self._lora_state())
        saver = getattr(type(self.pipe), "save_lora_weights", StableDiffusionPipeline.save_lora_weights)
        saver(save_directory=str(folder), unet_lora_layers=layers, safe_serialization=True)
        return folder / ADAPTER_FILE
