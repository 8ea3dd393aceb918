"""Render time of a creation: background + characters composited with Pillow, as the server does.

    python -m bench.render [--size 1024] [--characters 4] [--scale 0.45] [--art-height 512] [--runs 20]
    python -m bench.render --worst

Times the parts the server runs on save: compositing, the full-size PNG and the WebP
thumbnail; prints the median and the slowest run, and writes JSON to bench/results/render.json.
The characters are RGBA cut-outs with soft edges, stored as PNG: the first ("cold") render
decodes them and builds their cached pyramids, later ("warm") ones find them in the cache.

``--worst`` renders the largest picture the limits allow: ``WEE_WAA_MAX_LAYERS`` different
characters on a ``WEE_WAA_MAX_RENDER_PIXELS`` background, at the scales that cost most (every
layer fills the picture), and reports the slowest. Its cut-outs are 1024 px tall, as the admin
stores them; ``--art-height 4096`` shows a cut-out stored whole before that.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import platform
import statistics
import time
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from gallery.compositing import CutOut, CutOutCache, Layer, png_bytes, render, thumbnail_webp

RESULTS = Path(__file__).resolve().parent / "results"
WORST_SCALES = (0.5, 0.71, 1.0, 1.01, 1.41, 2.0)  # at and just past the pyramid's levels


def cut_out(hue: int, height: int = 512) -> Image.Image:
    width = height * 3 // 4
    art = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(art)
    draw.ellipse(
        (width // 12, height * 3 // 16, width * 11 // 12, height * 31 // 32),
        fill=((hue * 53) % 256, (hue * 97) % 256, 180, 255),
    )
    draw.ellipse((width * 7 // 24, height * 25 // 64, width * 5 // 12, height * 31 // 64), fill=(255, 255, 255, 255))
    return art.filter(ImageFilter.GaussianBlur(height / 340))


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def _layers(count: int, scale: float) -> list[Layer]:
    return [
        Layer(f"c{index}", x=(index + 1) / (count + 1), y=0.6, scale=scale, flip=index % 2 == 1, z=index)
        for index in range(count)
    ]


def measure(
    background: Image.Image, stored: dict[str, bytes], layers: list[Layer], runs: int
) -> dict[str, dict[str, float]]:
    """Milliseconds per part: the cold render (decode + pyramids) once, then ``runs`` warm ones."""
    cache = CutOutCache()

    def characters() -> dict[str, CutOut]:
        return {name: cache.get(name, partial(_decode, data)) for name, data in stored.items()}

    started = time.perf_counter()
    picture = render(background, layers, characters())
    cold = (time.perf_counter() - started) * 1000
    parts: dict[str, list[float]] = {"composite": [], "png": [], "webp_thumbnail": [], "total": []}
    for _ in range(runs):
        started = time.perf_counter()
        picture = render(background, layers, characters())
        composed = time.perf_counter()
        png_bytes(picture)
        encoded = time.perf_counter()
        thumbnail_webp(picture)
        done = time.perf_counter()
        for name, seconds in (
            ("composite", composed - started),
            ("png", encoded - composed),
            ("webp_thumbnail", done - encoded),
            ("total", done - started),
        ):
            parts[name].append(seconds * 1000)
    figures = {name: {"median_ms": statistics.median(v), "max_ms": max(v)} for name, v in parts.items()}
    figures["cold_composite"] = {"median_ms": cold, "max_ms": cold}
    return figures


def _print(title: str, figures: dict[str, dict[str, float]]) -> None:
    print(title)
    for name, figure in figures.items():
        print(f"  {name:15} median {figure['median_ms']:7.1f} ms   max {figure['max_ms']:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--characters", type=int, default=4)
    parser.add_argument("--scale", type=float, default=0.45)
    parser.add_argument("--art-height", type=int, default=None, help="512; 1024 with --worst")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--worst", action="store_true", help="the largest render the limits allow")
    args = parser.parse_args()
    where = platform.processor() or "cpu"
    RESULTS.mkdir(exist_ok=True)

    if not args.worst:
        background = Image.effect_noise((args.size, args.size), 64).convert("RGB")
        height = args.art_height or 512
        stored = {f"c{index}": _png(cut_out(index, height)) for index in range(args.characters)}
        figures = measure(background, stored, _layers(args.characters, args.scale), args.runs)
        _print(
            f"{args.characters} characters ({height} px) at scale {args.scale} on "
            f"{args.size}x{args.size}, {args.runs} runs ({where})",
            figures,
        )
        result: dict[str, Any] = {"size": args.size, "characters": args.characters, "scale": args.scale, **figures}
        (RESULTS / "render.json").write_text(json.dumps(result, indent=2))
        return

    layers_allowed = int(os.environ.get("WEE_WAA_MAX_LAYERS", "20"))
    side = math.isqrt(int(os.environ.get("WEE_WAA_MAX_RENDER_PIXELS", str(1024 * 1024))))
    background = Image.effect_noise((side, side), 64).convert("RGB")
    height = args.art_height or 1024
    stored = {f"c{index}": _png(cut_out(index, height)) for index in range(layers_allowed)}
    runs = min(args.runs, 5)
    by_scale = {}
    for scale in WORST_SCALES:
        by_scale[scale] = measure(background, stored, _layers(layers_allowed, scale), runs)
        _print(
            f"{layers_allowed} characters ({height} px) at scale {scale} on {side}x{side} ({where})", by_scale[scale]
        )
    worst = max(by_scale, key=lambda scale: by_scale[scale]["total"]["max_ms"])
    cold = max(figures["cold_composite"]["max_ms"] for figures in by_scale.values())
    print(f"worst warm render: scale {worst}, {by_scale[worst]['total']['max_ms']:.0f} ms in all")
    print(f"worst cold composite (first render in a process, decoding every cut-out): {cold:.0f} ms")
    (RESULTS / "render.json").write_text(
        json.dumps(
            {"worst": True, "size": side, "characters": layers_allowed, "art_height": height, "by_scale": by_scale},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
