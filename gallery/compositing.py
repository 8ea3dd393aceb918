"""Server-side compositing: a background plus character layers, rendered with Pillow.

The layer list is the truth and the server render is what gets stored and shared; the editor
in the browser is a preview of the same arithmetic. Positions are background-relative, so a
layer list means the same at any resolution:

- ``x``, ``y``: the character's centre, as shares of the background's width and height (0 to 1);
- ``scale``: the character's height as a share of the background's height;
- ``flip``: mirrored left to right; ``z``: stacking order (higher is in front; ties keep list order).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

MAX_LAYERS = 24
MIN_SCALE, MAX_SCALE = 0.02, 2.0
THUMBNAIL_SIDE = 480


@dataclass(frozen=True)
class Layer:
    character: str
    x: float
    y: float
    scale: float
    flip: bool = False
    z: int = 0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _number(item: Mapping[str, Any], key: str, low: float, high: float, position: int) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(_("Layer %(n)d: “%(key)s” must be a number.") % {"n": position, "key": key})
    if not low <= value <= high:
        raise ValidationError(
            _("Layer %(n)d: “%(key)s” must be between %(low)s and %(high)s.")
            % {"n": position, "key": key, "low": low, "high": high}
        )
    return float(value)


def parse_layers(raw: Any, known_characters: Iterable[str]) -> list[Layer]:
    """Validate a layer list from a client; every problem names the layer it is in."""
    if not isinstance(raw, list):
        raise ValidationError(_("Layers must be a list."))
    if len(raw) > MAX_LAYERS:
        raise ValidationError(_("At most %(max)d characters fit in one picture.") % {"max": MAX_LAYERS})
    known = set(known_characters)
    layers = []
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ValidationError(_("Layer %(n)d must be an object.") % {"n": position})
        character = item.get("character")
        if not isinstance(character, str) or character not in known:
            raise ValidationError(_("Layer %(n)d: unknown character.") % {"n": position})
        flip = item.get("flip", False)
        z = item.get("z", position)
        if not isinstance(flip, bool) or isinstance(z, bool) or not isinstance(z, int) or abs(z) > 10_000:
            raise ValidationError(
                _("Layer %(n)d: “flip” must be true or false and “z” a whole number.") % {"n": position}
            )
        layers.append(
            Layer(
                character=character,
                # A centre a little outside the picture is allowed: half a character may show.
                x=_number(item, "x", -0.5, 1.5, position),
                y=_number(item, "y", -0.5, 1.5, position),
                scale=_number(item, "scale", MIN_SCALE, MAX_SCALE, position),
                flip=flip,
                z=z,
            )
        )
    return layers


def render(background: Image.Image, layers: list[Layer], characters: Mapping[str, Image.Image]) -> Image.Image:
    """The picture at the background's full resolution, as RGB."""
    canvas = background.convert("RGBA")
    width, height = canvas.size
    for _index, layer in sorted(enumerate(layers), key=lambda item: (item[1].z, item[0])):
        art = characters[layer.character].convert("RGBA")
        art_height = max(1, round(layer.scale * height))
        art_width = max(1, round(art.width * art_height / art.height))
        sprite = art.resize((art_width, art_height), Image.Resampling.LANCZOS)
        if layer.flip:
            sprite = ImageOps.mirror(sprite)
        left = round(layer.x * width - art_width / 2)
        top = round(layer.y * height - art_height / 2)
        # paste() accepts offsets outside the canvas (alpha_composite's dest does not).
        overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        overlay.paste(sprite, (left, top))
        canvas = Image.alpha_composite(canvas, overlay)
    return canvas.convert("RGB")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def thumbnail_webp(image: Image.Image, side: int = THUMBNAIL_SIDE) -> bytes:
    small = image.copy()
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="WEBP", quality=82, method=4)
    return buffer.getvalue()
