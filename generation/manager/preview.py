"""Previews of the latents while a job draws: cheap enough to send every step.

Two decoders: diffusers' ``AutoencoderTiny`` (the TAESD architecture: a real picture for a
few milliseconds on a GPU) when ``WEE_WAA_PREVIEW_VAE`` names one, else a fixed linear
projection of the four SD latent channels to RGB (a blurry, colour-true sketch, ~free).
Only the images someone will look at are decoded.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generation.manager.tiny import build_once
from generation.manager.types import PreviewSource

if TYPE_CHECKING:
    from PIL.Image import Image

# Least-squares fit of SD 1.x/2.x latents to RGB, as used by ComfyUI and A1111 for their
# "cheap approximation" previews. Rows are latent channels, columns R, G, B.
SD_LATENT_RGB = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)
PREVIEW_MAX_SIDE = 256
TINY_TAESD_NAME = "tiny-taesd"


class LatentPreviews:
    """Decodes some images of a batch's latents at one step, on request."""

    def __init__(self, latents: Any, decoder: Any | None = None) -> None:
        self.latents = latents
        self.decoder = decoder

    def previews(self, indices: Sequence[int]) -> list[Image]:
        return self.later(indices)()

    def later(self, indices: Sequence[int]) -> Callable[[], list[Image]]:
        """The device work now, the pictures later (on another thread): the pixels are copied
        to pinned host memory without waiting (CUDA), and only the returned function waits for
        the copy and builds the images. The drawing thread never blocks on the device here."""
        import torch

        if not indices:
            return list
        picked = self.latents[list(indices)]
        with torch.inference_mode():
            if self.decoder is not None:
                decoded = self.decoder.decode(picked.to(self.decoder.dtype)).sample
                pixels = (decoded.float() / 2 + 0.5).clamp(0, 1)
            else:
                pixels = project_to_rgb(picked)
            bytes_ = (pixels * 255).round().to(torch.uint8).permute(0, 2, 3, 1)
            if bytes_.device.type != "cuda":
                host = bytes_.contiguous()
                return lambda: _from_bytes(host)
            host = torch.empty(bytes_.shape, dtype=torch.uint8, pin_memory=True)
            host.copy_(bytes_, non_blocking=True)
            copied = torch.cuda.Event()
            copied.record()

        def pictures() -> list[Image]:
            copied.synchronize()
            return _from_bytes(host)

        return pictures


def previews_later(source: PreviewSource | None, indices: Sequence[int]) -> Callable[[], list[Image]]:
    """``source.later`` when the source can split device and host work, else decoded now."""
    if source is None:
        raise ValueError("This pipeline gives no latents to preview")
    later = getattr(source, "later", None)
    if callable(later):
        split: Callable[[], list[Image]] = later(indices)
        return split
    images = source.previews(indices)
    return lambda: images


def _from_bytes(array: Any) -> list[Image]:
    from PIL import Image as PILImage

    return [PILImage.fromarray(item) for item in array.numpy()]


def project_to_rgb(latents: Any) -> Any:
    """(B, C, h, w) latents → (B, 3, h, w) in [0, 1]."""
    import torch

    latents = latents.float()
    if latents.shape[1] == len(SD_LATENT_RGB):
        factors = torch.tensor(SD_LATENT_RGB, dtype=latents.dtype, device=latents.device)
        rgb = torch.einsum("bchw,cr->brhw", latents, factors)
        return ((rgb + 1) / 2).clamp(0, 1)
    # Other latent spaces: show the first three channels, stretched per image.
    rgb = latents[:, :3]
    low = rgb.amin(dim=(1, 2, 3), keepdim=True)
    high = rgb.amax(dim=(1, 2, 3), keepdim=True)
    return (rgb - low) / (high - low).clamp_min(1e-6)


def _to_images(pixels: Any) -> list[Image]:
    import torch
    from PIL import Image as PILImage

    array = (pixels * 255).round().to("cpu", dtype=torch.uint8).permute(0, 2, 3, 1).numpy()
    return [PILImage.fromarray(item) for item in array]


def encode_preview(image: Image) -> tuple[str, int, int]:
    """A small JPEG as a data URL: fits in one websocket text message and an ``<img src>``."""
    if max(image.size) > PREVIEW_MAX_SIDE:
        image = image.copy()
        image.thumbnail((PREVIEW_MAX_SIDE, PREVIEW_MAX_SIDE))
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="JPEG", quality=70)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f"data:image/jpeg;base64,{data}", image.width, image.height


def build_tiny_taesd(target: Path) -> None:
    from diffusers import AutoencoderTiny

    AutoencoderTiny(
        encoder_block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        num_encoder_blocks=(1, 1, 1, 1),
        num_decoder_blocks=(1, 1, 1, 1),
        latent_channels=4,
    ).save_pretrained(target)


def ensure_tiny_taesd(cache_dir: Path) -> Path:
    """A small random-weight AutoencoderTiny, saved once: exercises the TAESD path offline."""
    return build_once(cache_dir / TINY_TAESD_NAME, build_tiny_taesd, marker="config.json")


def load_preview_decoder(name: str, device: str, dtype: Any, cache_dir: Path) -> Any | None:
    """``from_pretrained`` like every model here; an empty name means the linear projection."""
    if not name:
        return None
    from diffusers import AutoencoderTiny

    if name == TINY_TAESD_NAME:
        path: str | Path = ensure_tiny_taesd(cache_dir)
    else:
        path = name
    local = Path(path).is_dir()
    try:
        decoder = AutoencoderTiny.from_pretrained(path, dtype=dtype, local_files_only=True)
    except Exception:
        if local:
            raise
        decoder = AutoencoderTiny.from_pretrained(path, dtype=dtype)
    return decoder.to(device).eval()
