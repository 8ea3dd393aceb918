"""Image to image and inpainting on the resident pipeline's weights.

Both pipelines come from diffusers' ``from_pipe``: new pipeline objects around the very same
UNet, VAE and text encoder (no second copy in memory, and a style's LoRA adapter loaded into
the UNet applies to edits too). They are built on first use, since most servers never edit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from generation.manager.types import JobKind, Slot

if TYPE_CHECKING:
    from PIL.Image import Image

# A callback_on_step_end for diffusers: (pipe, step, timestep, kwargs) → kwargs.
StepEnd = Callable[[Any, int, Any, dict[str, Any]], dict[str, Any]]


def effective_steps(steps: int, strength: float) -> int:
    """The step count to ask diffusers for. It runs ``int(steps * strength)`` of them and refuses
    zero, which few-step models (SD-Turbo at 1-4 steps) meet at any low strength: there the
    schedule is stretched until one step falls inside the strength, so "change it a little"
    still works (one step, at low noise) instead of failing."""
    count = max(1, steps)
    while int(count * strength) < 1:
        count += 1
    return count


def steps_run(steps: int, strength: float) -> int:
    """How many denoising steps an edit of ``strength`` actually takes (what progress counts)."""
    count = effective_steps(steps, strength)
    return min(int(count * strength), count)


def feathered_mask(mask: Image, radius: float) -> Image:
    """White inside the painted region, fading to black at its edge and black outside: the
    fade lies inside the region, so the pixels outside stay exactly the source's."""
    import numpy as np
    from PIL import Image as PILImage
    from PIL import ImageFilter

    if radius <= 0:
        return mask.convert("L")
    blurred = np.asarray(mask.convert("L").filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32) / 255.0
    inner = np.clip(blurred * 2.0 - 1.0, 0.0, 1.0)
    return PILImage.fromarray((inner * 255.0).round().astype(np.uint8), mode="L")


def paste_outside_mask(result: Image, source: Image, mask: Image) -> Image:
    """The drawn pixels inside the (feathered) mask, the source's outside it: a 4-channel UNet
    only blends latents, and the VAE does not give back the exact pixels it was given."""
    from PIL import Image as PILImage

    radius = max(1.0, min(result.size) / 64)
    soft = feathered_mask(mask.resize(result.size), radius)
    return PILImage.composite(result.convert("RGB"), source.convert("RGB").resize(result.size), soft)


class EditPipelines:
    """The image-to-image and inpainting pipelines of one resident text-to-image pipeline.

    ``inpaint_model``: a folder or hub id of an inpainting checkpoint (a 9-channel UNet). Only
    its UNet is loaded; the rest is shared. Empty: the resident UNet inpaints by blending the
    source's latents outside the mask at every step.
    """

    def __init__(self, pipe: Any, inpaint_model: str = "") -> None:
        self.pipe = pipe
        self.inpaint_model = inpaint_model
        self._image_to_image: Any | None = None
        self._inpainting: Any | None = None

    def image_to_image(self) -> Any:
        if self._image_to_image is None:
            from diffusers import AutoPipelineForImage2Image

            self._image_to_image = self._quiet(AutoPipelineForImage2Image.from_pipe(self.pipe))
        return self._image_to_image

    def inpainting(self) -> Any:
        if self._inpainting is None:
            from diffusers import AutoPipelineForInpainting

            extra: dict[str, Any] = {}
            if self.inpaint_model:
                extra["unet"] = self._inpaint_unet()
            self._inpainting = self._quiet(AutoPipelineForInpainting.from_pipe(self.pipe, **extra))
        return self._inpainting

    def _inpaint_unet(self) -> Any:
        from diffusers import UNet2DConditionModel

        unet = self.pipe.unet
        kwargs: dict[str, Any] = {"subfolder": "unet", "dtype": unet.dtype}
        try:
            loaded = UNet2DConditionModel.from_pretrained(self.inpaint_model, local_files_only=True, **kwargs)
        except OSError:
            loaded = UNet2DConditionModel.from_pretrained(self.inpaint_model, **kwargs)
        return loaded.to(unet.device)

    @staticmethod
    def _quiet(pipe: Any) -> Any:
        pipe.set_progress_bar_config(disable=True)
        return pipe

    def run(
        self,
        slots: Sequence[Slot],
        text: dict[str, Any],
        generators: list[Any],
        step_end: StepEnd,
    ) -> list[Image]:
        """One call for a batch of edits of one kind and strength; each image keeps its own
        source, mask, prompt and seed."""
        first = slots[0].job
        sources = [_source_of(slot) for slot in slots]
        steps = effective_steps(first.steps, first.strength)
        common: dict[str, Any] = {
            **text,
            "image": sources,
            "strength": first.strength,
            "num_inference_steps": steps,
            "guidance_scale": first.guidance_scale,
            "generator": generators,
            "callback_on_step_end": step_end,
            "output_type": "pil",
        }
        if first.kind == JobKind.INPAINT:
            masks = [_mask_of(slot) for slot in slots]
            result = self.inpainting()(**common, mask_image=masks, width=first.width, height=first.height)
            return [
                paste_outside_mask(image, source, mask)
                for image, source, mask in zip(result.images, sources, masks, strict=True)
            ]
        result = self.image_to_image()(**common)
        return list(result.images)


def _source_of(slot: Slot) -> Image:
    if slot.job.source is None:
        raise ValueError("the picture to edit is no longer there")
    return slot.job.source


def _mask_of(slot: Slot) -> Image:
    if slot.job.mask is None:
        raise ValueError("the painted region is missing")
    return slot.job.mask
