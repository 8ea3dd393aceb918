"""Server-side compositing: a background plus character layers, rendered with Pillow.

The layer list is the truth and the server render is what gets stored and shared; the editor
in the browser is a preview of the same arithmetic. Positions are background-relative, so a
layer list means the same at any resolution:

- ``x``, ``y``: the character's centre, as shares of the background's width and height (0 to 1);
- ``scale``: the character's height as a share of the background's height;
- ``flip``: mirrored left to right; ``z``: stacking order (higher is in front; ties keep list order).

Renders run on request threads, so their cost is bounded: a layer count (``WEE_WAA_MAX_LAYERS``),
a scale of at most 2, and each layer resizes and blends only what lands on the picture, from a
cached pyramid of the cut-out whose nearest level is less than √2 bigger than needed.
"""

from __future__ import annotations

import io
import math
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

MIN_SCALE, MAX_SCALE = 0.02, 2.0
# A centre a little outside the picture is allowed: half a character may show.
MIN_CENTRE, MAX_CENTRE = -0.5, 1.5
MAX_Z = 10_000
THUMBNAIL_SIDE = 480
# A cut-out is kept at most this tall (and this many pixels) for rendering: the shipped ones are
# 512 px, backgrounds at most 1024 px, and only a scale above 1 would enlarge it a little.
WORKING_HEIGHT = 1024
WORKING_PIXELS = 2_097_152
# Pyramid levels step down by √2 to this height: a layer never shrinks its level by √2 or more.
SMALLEST_LEVEL = 16
CACHE_BYTES = 128 * 1024 * 1024


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


def layer_count_check(count: int, *, max_layers: int | None = None) -> None:
    """Before anything else is read: a long list costs nothing to refuse."""
    most = settings.WEE_WAA_MAX_LAYERS if max_layers is None else max_layers
    if count > most:
        raise ValidationError(_("At most %(max)d characters fit in one picture.") % {"max": most}, code="max_layers")


def parse_layers(raw: Any, known_characters: Iterable[str], *, max_layers: int | None = None) -> list[Layer]:
    """Validate a layer list from a client; every problem names the layer it is in."""
    if not isinstance(raw, list):
        raise ValidationError(_("Layers must be a list."))
    layer_count_check(len(raw), max_layers=max_layers)
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
        if not isinstance(flip, bool) or isinstance(z, bool) or not isinstance(z, int) or abs(z) > MAX_Z:
            raise ValidationError(
                _("Layer %(n)d: “flip” must be true or false and “z” a whole number.") % {"n": position}
            )
        layers.append(
            Layer(
                character=character,
                x=_number(item, "x", MIN_CENTRE, MAX_CENTRE, position),
                y=_number(item, "y", MIN_CENTRE, MAX_CENTRE, position),
                scale=_number(item, "scale", MIN_SCALE, MAX_SCALE, position),
                flip=flip,
                z=z,
            )
        )
    return layers


def upright(image: Image.Image) -> Image.Image:
    """The picture as it is meant to be seen: phones store it sideways and say so in EXIF.
    An EXIF block too damaged to read leaves the pixels as they are stored."""
    try:
        turned = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, TypeError, KeyError, IndexError, struct.error):
        return image
    return image if turned is None else turned


class CutOut:
    """A character ready to render: upright RGBA, at most ``WORKING_HEIGHT`` tall, with smaller
    copies each √2 smaller (LANCZOS, made once). A layer picks the smallest copy at least as
    big as it needs, so its own resize shrinks by less than √2 and a cheap filter suffices."""

    def __init__(self, image: Image.Image) -> None:
        art = upright(image)
        art = art if art.mode == "RGBA" else art.convert("RGBA")
        factor = min(1.0, WORKING_HEIGHT / art.height, math.sqrt(WORKING_PIXELS / (art.width * art.height)))
        if factor < 1.0:
            size = (max(1, round(art.width * factor)), max(1, round(art.height * factor)))
            art = art.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
        self.width, self.height = art.size
        self.levels = [art]
        step = 1
        while self.height / math.sqrt(2) ** step >= SMALLEST_LEVEL:
            divisor = math.sqrt(2) ** step
            size = (max(1, round(self.width / divisor)), round(self.height / divisor))
            self.levels.append(self.levels[-1].resize(size, Image.Resampling.LANCZOS))
            step += 1
        self.nbytes = sum(level.width * level.height * 4 for level in self.levels)

    def level_for(self, height: int) -> Image.Image:
        """The smallest copy at least ``height`` tall (the largest one when none is)."""
        chosen = self.levels[0]
        for level in self.levels[1:]:
            if level.height < height:
                break
            chosen = level
        return chosen


class CutOutCache:
    """Recently used cut-outs, bounded in bytes, by a key that changes with the file (character
    id and file name: a new upload is a new name). Decoding a 4096 px PNG costs more than a
    whole render, so a process decodes each cut-out once."""

    def __init__(self, max_bytes: int = CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, CutOut] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, load: Callable[[], Image.Image]) -> CutOut:
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        cut_out = CutOut(load())  # outside the lock: two renders may load different ones at once
        with self._lock:
            self._entries[key] = cut_out
            while sum(entry.nbytes for entry in self._entries.values()) > self.max_bytes and len(self._entries) > 1:
                self._entries.popitem(last=False)
        return cut_out

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


cut_outs = CutOutCache()


def render(background: Image.Image, layers: list[Layer], characters: Mapping[str, Image.Image | CutOut]) -> Image.Image:
    """The picture at the background's full resolution, as RGB.

    Only the part of each character that lands on the picture is resized and blended, straight
    into the canvas: a layer costs at most the picture's area, however large the cut-out or its
    scale (a character at scale 2 is mostly outside the picture).
    """
    canvas = background.convert("RGBA")  # a copy: the blending below happens in place
    width, height = canvas.size
    prepared = {name: art if isinstance(art, CutOut) else CutOut(art) for name, art in characters.items()}
    for _index, layer in sorted(enumerate(layers), key=lambda item: (item[1].z, item[0])):
        cut_out = prepared[layer.character]
        art_height = max(1, round(layer.scale * height))
        art_width = max(1, round(cut_out.width * art_height / cut_out.height))
        left = round(layer.x * width - art_width / 2)
        top = round(layer.y * height - art_height / 2)
        # The visible part, in canvas pixels; a centre a little outside may show nothing at all.
        x0, y0 = max(0, left), max(0, top)
        x1, y1 = min(width, left + art_width), min(height, top + art_height)
        if x0 >= x1 or y0 >= y1:
            continue
        art = cut_out.level_for(art_height)
        columns = (x0 - left, x1 - left)
        if layer.flip:  # the visible columns of the mirrored sprite, taken from the unmirrored art
            columns = (art_width - columns[1], art_width - columns[0])
        shrink_x, shrink_y = art.width / art_width, art.height / art_height
        box = (columns[0] * shrink_x, (y0 - top) * shrink_y, columns[1] * shrink_x, (y1 - top) * shrink_y)
        # BILINEAR: Pillow antialiases it when shrinking, and a pyramid level is less than √2
        # too big, so it looks like LANCZOS here at half the cost (this loop is the render).
        sprite = art.resize((x1 - x0, y1 - y0), Image.Resampling.BILINEAR, box=box)
        if layer.flip:
            sprite = ImageOps.mirror(sprite)
        canvas.alpha_composite(sprite, dest=(x0, y0))
    return canvas.convert("RGB")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=3)  # 6 (the default) is ~3x slower, no smaller on photos
    return buffer.getvalue()


def thumbnail_webp(image: Image.Image, side: int = THUMBNAIL_SIDE) -> bytes:
    small = image.copy()
    small.thumbnail((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    small.save(buffer, format="WEBP", quality=82, method=4)
    return buffer.getvalue()
