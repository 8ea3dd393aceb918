"""The characters Wee-Waa ships with, drawn by this code: the code is their source.

All six are original designs built from plain shapes. Each is drawn at twice its size and
scaled down (LANCZOS) for smooth edges, on a transparent background.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from PIL import Image, ImageChops, ImageDraw

from gallery.models import Character
from wee_waa.ids import new_public_id

SOURCE = "drawn by code: gallery/characters.py"
HEIGHT = 512  # final height of every character, in pixels
SUPERSAMPLE = 2
INK = "#3b2f3a"  # a warm near-black for outlines and eyes
STROKE = 6
PADDING = 10

Point = tuple[float, float]
Box = tuple[float, float, float, float]


class Pen:
    """Draws on a 512 x 512 design grid, at ``SUPERSAMPLE`` times the resolution."""

    def __init__(self, size: int = 512) -> None:
        self.image: Any = Image.new("RGBA", (size * SUPERSAMPLE, size * SUPERSAMPLE), (0, 0, 0, 0))
        self.draw: Any = ImageDraw.Draw(self.image)

    @staticmethod
    def _scaled(values: Sequence[float]) -> list[float]:
        return [v * SUPERSAMPLE for v in values]

    def ellipse(self, box: Box, fill: str | None, outline: str | None = INK, width: float = STROKE) -> None:
        self.draw.ellipse(self._scaled(box), fill=fill, outline=outline, width=round(width * SUPERSAMPLE))

    def circle(self, center: Point, radius: float, fill: str, outline: str | None = INK) -> None:
        x, y = center
        self.ellipse((x - radius, y - radius, x + radius, y + radius), fill, outline)

    def rounded(self, box: Box, radius: float, fill: str, outline: str | None = INK) -> None:
        self.draw.rounded_rectangle(
            self._scaled(box), radius=radius * SUPERSAMPLE, fill=fill, outline=outline, width=STROKE * SUPERSAMPLE
        )

    def polygon(self, points: Sequence[Point], fill: str | None, outline: str | None = INK) -> None:
        flat = [(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in points]
        self.draw.polygon(flat, fill=fill, outline=outline, width=STROKE * SUPERSAMPLE if outline else 0)

    def line(self, points: Sequence[Point], fill: str = INK, width: float = STROKE) -> None:
        """A line with round ends and joints."""
        flat = [(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in points]
        self.draw.line(flat, fill=fill, width=round(width * SUPERSAMPLE), joint="curve")
        for x, y in (points[0], points[-1]):
            r = width / 2
            self.ellipse((x - r, y - r, x + r, y + r), fill, outline=None)

    def arc(self, box: Box, start: float, end: float, fill: str = INK, width: float = STROKE) -> None:
        self.draw.arc(self._scaled(box), start, end, fill=fill, width=round(width * SUPERSAMPLE))

    def eye(self, center: Point, radius: float) -> None:
        """A shiny round eye: dark, a big highlight up and to the left, a small one below."""
        x, y = center
        self.ellipse((x - radius, y - radius * 1.15, x + radius, y + radius * 1.15), INK, outline=None)
        self.circle((x - radius * 0.35, y - radius * 0.45), radius * 0.38, "#ffffff", outline=None)
        self.circle((x + radius * 0.4, y + radius * 0.45), radius * 0.16, "#ffffff", outline=None)

    def smile(self, center: Point, size: float) -> None:
        x, y = center
        self.arc((x - size, y - size * 0.8, x + size, y + size * 0.8), 25, 155, width=STROKE * 0.9)

    def blush(self, center: Point, size: float, color: str = "#f6a5b0") -> None:
        x, y = center
        self.ellipse((x - size, y - size * 0.55, x + size, y + size * 0.55), color, outline=None)

    def paste_inside(self, layer: Pen, box: Box) -> None:
        """Lays ``layer`` on top, keeping only what falls inside the ellipse ``box``."""
        mask = Image.new("L", self.image.size, 0)
        ImageDraw.Draw(mask).ellipse(self._scaled(box), fill=255)
        layer.image.putalpha(ImageChops.multiply(layer.image.getchannel("A"), mask))
        self.image.alpha_composite(layer.image)

    def finish(self) -> Any:
        """Crops to the drawing (plus a margin) and scales down to ``HEIGHT`` pixels tall."""
        left, top, right, bottom = self.image.getchannel("A").getbbox()
        pad = PADDING * SUPERSAMPLE
        cropped = self.image.crop((left - pad, top - pad, right + pad, bottom + pad))
        scale = HEIGHT / cropped.height
        return cropped.resize((round(cropped.width * scale), HEIGHT), Image.Resampling.LANCZOS)


def lens(base: Point, length: float, width: float, angle: float, *, start: float = 0.0, steps: int = 24) -> list[Point]:
    """A leaf-shaped outline from ``base``, pointing ``angle`` degrees (0 = right, 90 = down).

    ``start`` (0-1) cuts the leaf straight across that far along, keeping the tip end.
    """
    bx, by = base
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    ts = [start + (1 - start) * i / steps for i in range(steps + 1)]
    side = [(t * length, width / 2 * math.sin(math.pi * t)) for t in ts]
    shape = side + [(x, -y) for x, y in reversed(side)]
    return [(bx + x * cos - y * sin, by + x * sin + y * cos) for x, y in shape]


def draw_pip() -> Any:
    """A round mint blob with a two-leaf sprout on its head."""
    pen = Pen()
    green, dark, belly = "#8fd694", "#5fae6b", "#d4f3cc"
    pen.line([(256, 150), (252, 118), (258, 88)], fill=INK, width=STROKE + 6)
    pen.line([(256, 150), (252, 118), (258, 88)], fill=dark, width=6)
    pen.polygon(lens((258, 92), 70, 38, -150), "#a8e07a")
    pen.polygon(lens((258, 92), 84, 44, -35), "#a8e07a")
    pen.line([(258, 92), (320, 50)], fill=dark, width=3)
    pen.ellipse((168, 420, 238, 470), dark)
    pen.ellipse((274, 420, 344, 470), dark)
    pen.ellipse((78, 300, 140, 360), green)
    pen.ellipse((372, 300, 434, 360), green)
    pen.ellipse((96, 140, 416, 452), green)
    pen.ellipse((172, 300, 340, 430), belly, outline=None)
    pen.eye((206, 262), 22)
    pen.eye((306, 262), 22)
    pen.blush((166, 302), 22)
    pen.blush((346, 302), 22)
    pen.smile((256, 292), 22)
    return pen.finish()


def draw_bolt() -> Any:
    """A small robot with a screen for a face and a bulb on its antenna."""
    pen = Pen()
    steel, trim, screen, glow, amber = "#a7c8e8", "#6f93b8", "#2e4057", "#8ff0ff", "#ffb347"
    pen.line([(256, 130), (256, 70)], fill=INK, width=STROKE + 6)
    pen.line([(256, 130), (256, 70)], fill=trim, width=6)
    pen.circle((256, 60), 20, amber)
    pen.circle((250, 54), 6, "#fff4d6", outline=None)
    pen.line([(150, 345), (108, 392)], fill=INK, width=STROKE + 18)
    pen.line([(150, 345), (108, 392)], fill=trim, width=18)
    pen.line([(362, 345), (404, 392)], fill=INK, width=STROKE + 18)
    pen.line([(362, 345), (404, 392)], fill=trim, width=18)
    pen.circle((100, 400), 22, amber)
    pen.circle((412, 400), 22, amber)
    pen.rounded((184, 430, 234, 480), 14, trim)
    pen.rounded((278, 430, 328, 480), 14, trim)
    pen.rounded((118, 180, 152, 250), 12, amber)
    pen.rounded((360, 180, 394, 250), 12, amber)
    pen.rounded((224, 280, 288, 310), 8, trim)
    pen.rounded((148, 300, 364, 446), 40, steel)
    pen.rounded((140, 118, 372, 294), 48, steel)
    pen.rounded((168, 146, 344, 266), 32, screen)
    pen.ellipse((204, 178, 238, 224), glow, outline=None)
    pen.ellipse((274, 178, 308, 224), glow, outline=None)
    pen.arc((232, 206, 280, 246), 25, 155, fill=glow, width=6)
    pen.circle((256, 368), 32, amber)
    pen.circle((256, 368), 14, "#fff4d6", outline=None)
    for x in (186, 326):
        pen.circle((x, 336), 7, trim, outline=None)
        pen.circle((x, 400), 7, trim, outline=None)
    return pen.finish()


def draw_juniper() -> Any:
    """A plump lavender owl with big round eye discs and tufted ears."""
    pen = Pen()
    body, wing, belly, beak = "#ad91e0", "#8a6cc4", "#eee4fb", "#ffb347"
    pen.ellipse((190, 446, 236, 478), beak)
    pen.ellipse((276, 446, 322, 478), beak)
    pen.polygon([(140, 190), (130, 90), (220, 150)], wing)
    pen.polygon([(372, 190), (382, 90), (292, 150)], wing)
    pen.ellipse((112, 110, 400, 466), body)
    pen.ellipse((176, 276, 336, 448), belly, outline=None)
    for x, y in ((216, 320), (256, 320), (296, 320), (236, 356), (276, 356), (256, 392)):
        pen.arc((x - 16, y - 12, x + 16, y + 12), 20, 160, fill=wing, width=4)
    pen.polygon(lens((128, 270), 150, 64, 80), wing)
    pen.polygon(lens((384, 270), 150, 64, 100), wing)
    pen.circle((204, 218), 54, "#ffffff")
    pen.circle((308, 218), 54, "#ffffff")
    pen.eye((210, 222), 26)
    pen.eye((302, 222), 26)
    pen.polygon([(238, 262), (274, 262), (256, 294)], beak)
    return pen.finish()


def draw_pebble() -> Any:
    """A navy penguin chick with a cream face, orange beak and feet, and rosy cheeks."""
    pen = Pen()
    navy, cream, orange = "#3f5485", "#f7f1e3", "#ff9f43"
    pen.ellipse((176, 440, 246, 480), orange)
    pen.ellipse((266, 440, 336, 480), orange)
    pen.polygon(lens((168, 250), 150, 56, 118), navy)
    pen.polygon(lens((344, 250), 150, 56, 62), navy)
    pen.ellipse((132, 86, 380, 466), navy)
    pen.ellipse((172, 212, 340, 450), cream, outline=None)
    pen.circle((212, 200), 52, cream, outline=None)
    pen.circle((300, 200), 52, cream, outline=None)
    pen.eye((214, 200), 20)
    pen.eye((298, 200), 20)
    pen.blush((188, 240), 18)
    pen.blush((324, 240), 18)
    pen.polygon([(234, 226), (278, 226), (256, 256)], orange)
    return pen.finish()


def draw_clementine() -> Any:
    """An orange fox cub with a cream-tipped bushy tail."""
    pen = Pen()
    orange, cream, brown = "#f28c38", "#fff3e0", "#8a4b2a"
    tail = lens((290, 420), 210, 110, -40)
    pen.polygon(tail, orange)
    pen.polygon(lens((290, 420), 210, 110, -40, start=0.7), cream, outline=None)
    pen.polygon(tail, None)
    pen.ellipse((196, 440, 246, 476), brown)
    pen.ellipse((266, 440, 316, 476), brown)
    pen.ellipse((168, 282, 344, 466), orange)
    pen.ellipse((206, 320, 306, 450), cream, outline=None)
    pen.polygon([(140, 190), (146, 70), (236, 140)], orange)
    pen.polygon([(372, 190), (366, 70), (276, 140)], orange)
    pen.polygon([(160, 168), (160, 108), (206, 144)], brown, outline=None)
    pen.polygon([(352, 168), (352, 108), (306, 144)], brown, outline=None)
    pen.ellipse((118, 110, 394, 320), orange)
    cheeks = Pen()
    cheeks.ellipse((110, 214, 262, 340), cream, outline=None)
    cheeks.ellipse((250, 214, 402, 340), cream, outline=None)
    pen.paste_inside(cheeks, (118, 110, 394, 320))
    pen.ellipse((118, 110, 394, 320), None)  # the cheeks covered the head's outline: draw it again
    pen.eye((206, 212), 20)
    pen.eye((306, 212), 20)
    pen.ellipse((240, 244, 272, 266), INK, outline=None)
    pen.arc((226, 254, 258, 284), 20, 150, width=5)
    pen.arc((254, 254, 286, 284), 30, 160, width=5)
    return pen.finish()


def draw_nimbus() -> Any:
    """A fluffy cloud with a sleepy smile and two raindrops."""
    pen = Pen()
    white, drop = "#fbfdff", "#6fb6f2"
    puffs: list[Box] = [
        (70, 200, 210, 340),
        (150, 130, 310, 290),
        (270, 160, 410, 300),
        (340, 230, 450, 340),
        (100, 250, 420, 380),
    ]
    for x0, y0, x1, y1 in puffs:  # the outline of the whole cloud first, then its fill on top
        pen.ellipse((x0 - STROKE, y0 - STROKE, x1 + STROKE, y1 + STROKE), INK, outline=None)
    for box in puffs:
        pen.ellipse(box, white, outline=None)
    for x, y in ((200, 410), (316, 430)):
        pen.polygon([(x, y - 34), (x - 18, y), (x + 18, y)], drop, outline=None)
        pen.circle((x, y + 4), 19, drop)
        pen.line([(x - 16, y - 2), (x, y - 34), (x + 16, y - 2)], width=STROKE)
        pen.circle((x - 6, y + 2), 5, "#ffffff", outline=None)
    pen.arc((178, 236, 228, 276), 200, 340, width=STROKE)
    pen.arc((284, 236, 334, 276), 200, 340, width=STROKE)
    pen.blush((176, 292), 20)
    pen.blush((336, 292), 20)
    pen.smile((256, 290), 24)
    return pen.finish()


@dataclass(frozen=True)
class DrawnCharacter:
    slug: str
    name: str
    draw: Callable[[], Any]
    default_scale: float = 0.35

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.draw().save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()


CHARACTERS: tuple[DrawnCharacter, ...] = (
    DrawnCharacter("pip", "Pip", draw_pip),
    DrawnCharacter("bolt", "Bolt", draw_bolt, default_scale=0.4),
    DrawnCharacter("juniper", "Juniper", draw_juniper),
    DrawnCharacter("pebble", "Pebble", draw_pebble, default_scale=0.3),
    DrawnCharacter("clementine", "Clementine", draw_clementine),
    DrawnCharacter("nimbus", "Nimbus", draw_nimbus, default_scale=0.3),
)


def ensure_characters() -> list[Character]:
    """Adds the shipped characters that are missing, by slug; returns the ones added.

    Existing rows are left exactly as admins made them. A shipped character that was deleted
    comes back on the next run, so admins hide one by unticking *active* instead.
    """
    existing = set(Character.objects.filter(slug__in=[c.slug for c in CHARACTERS]).values_list("slug", flat=True))
    added: list[Character] = []
    for drawn in CHARACTERS:
        if drawn.slug in existing:
            continue
        png = drawn.png()
        with Image.open(io.BytesIO(png)) as image:
            width, height = image.size
        character = Character(
            slug=drawn.slug,
            name=drawn.name,
            width=width,
            height=height,
            default_scale=drawn.default_scale,
            source=SOURCE,
        )
        # A name of its own: two processes starting at once may both get here, and the loser's
        # clean-up below must never delete the winner's file.
        character.image.save(f"{drawn.slug}-{new_public_id()[:8]}.png", ContentFile(png), save=False)
        try:
            with transaction.atomic():
                character.save()
        except IntegrityError:  # another process added it meanwhile
            character.image.delete(save=False)
            continue
        added.append(character)
    return added
