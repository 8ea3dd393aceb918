"""A resident diffusers pipeline, and one batched call on it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from generation.manager.edits import EditPipelines, steps_run
from generation.manager.preview import LatentPreviews
from generation.manager.prompts import encode_chunked, prompt_windows
from generation.manager.types import AdapterSwitch, JobKind, JobSpec, Slot, StepCallback

if TYPE_CHECKING:
    from PIL.Image import Image


class DiffusersPipeline:
    """A resident text-to-image pipeline. Only the manager's worker thread calls it:
    schedulers keep state and tokenizers are not thread-safe."""

    def __init__(
        self,
        pipe: Any,
        name: str,
        device: str,
        preview_decoder: Any | None = None,
        adapters: AdapterSwitch | None = None,
        inpaint_model: str = "",
    ) -> None:
        self.pipe = pipe
        self.name = name
        self.device = device
        self.preview_decoder = preview_decoder
        self.adapters = adapters
        # Image to image and inpainting share this pipeline's weights (built on first edit).
        self.edits = EditPipelines(pipe, inpaint_model=inpaint_model)
        pipe.set_progress_bar_config(disable=True)

    def text_windows(self, job: JobSpec) -> int:
        texts = [job.prompt, job.negative_prompt] if job.guidance_scale > 1.0 else [job.prompt]
        return prompt_windows(self.pipe, texts)

    def generate(self, slots: Sequence[Slot], on_step: StepCallback) -> list[Image]:
        """One pipeline call for the whole batch: each image keeps its own prompt, negative
        prompt and seed (and an edit its source and mask), so a job draws the same picture
        whoever it is batched with. The batch key keeps kinds and strengths apart."""
        import torch

        first = slots[0].job
        if self.adapters is not None:  # the batch key holds the adapter: one per call
            self.adapters.activate(first.adapter)
        elif first.adapter is not None:
            raise RuntimeError("This model cannot load style adapters")
        # CPU generators, one per image: the same seed draws the same picture on any device
        # and in any batch.
        generators = [torch.Generator(device="cpu").manual_seed(slot.seed) for slot in slots]
        edit = first.kind != JobKind.DRAW
        # An edit runs only the strength's share of the steps; progress counts those.
        total = steps_run(first.steps, first.strength) if edit else first.steps
        use_negative = first.guidance_scale > 1.0 and any(slot.job.negative_prompt for slot in slots)

        def step_end(pipe: Any, step: int, timestep: Any, callback_kwargs: dict[str, Any]) -> dict[str, Any]:
            source = LatentPreviews(callback_kwargs["latents"], self.preview_decoder)
            if on_step(step + 1, total, source):
                pipe._interrupt = True  # diffusers leaves the loop; the caller drops the result
            return callback_kwargs

        prompts = [slot.job.prompt for slot in slots]
        negatives = [slot.job.negative_prompt for slot in slots] if use_negative else None
        text: dict[str, Any] = {"prompt": prompts, "negative_prompt": negatives}
        if self.text_windows(first) > 1:  # the batch's jobs all fill as many windows
            if negatives is None and first.guidance_scale > 1.0:
                negatives = [""] * len(slots)  # what diffusers would use, at the prompts' length
            embeds, negative_embeds = encode_chunked(self.pipe, prompts, negatives)
            text = {"prompt_embeds": embeds, "negative_prompt_embeds": negative_embeds}

        with torch.inference_mode():
            if edit:
                return self.edits.run(slots, text, generators, step_end)
            result = self.pipe(
                **text,
                num_inference_steps=first.steps,
                guidance_scale=first.guidance_scale,
                width=first.width,
                height=first.height,
                generator=generators,
                callback_on_step_end=step_end,
                output_type="pil",
            )
        images: list[Image] = list(result.images)
        return images
