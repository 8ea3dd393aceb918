"""Render time of a creation: background + characters composited with Pillow, as the server does.

    python -m bench.render [--size 1024] [--characters 4] [--runs 20]

Times the three parts the server runs on save: compositing, the full-size PNG, and the
WebP thumbnail; prints the median and the slowest run, and writes JSON to
bench/results/render.json. The characters are 512 px RGBA cut-outs with soft edges.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from gallery.compositing import Layer, png_bytes, render, thumbnail_webp

RESULTS = Path(__file__).resolve().parent / "results"


def cut_out(hue: int) -> Image.Image:
    art = Image.new("RGBA", (384, 512), (0, 0, 0, 0))
    draw = ImageDraw.Draw(art)
    draw.ellipse((32, 96, 352, 496), fill=((hue * 53) % 256, (hue * 97) % 256, 180, 255))
    draw.ellipse((112, 200, 160, 248), fill=(255, 255, 255, 255))
    return art.filter(ImageFilter.GaussianBlur(1.5))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--characters", type=int, default=4)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    background = Image.effect_noise((args.size, args.size), 64).convert("RGB")
    arts = {f"c{index}": cut_out(index) for index in range(args.characters)}
    layers = [
        Layer(f"c{index}", x=(index + 1) / (args.characters + 1), y=0.6, scale=0.45, flip=index % 2 == 1, z=index)
        for index in range(args.characters)
    ]
    parts: dict[str, list[float]] = {"composite": [], "png": [], "webp_thumbnail": [], "total": []}
    for _ in range(args.runs + 1):  # the first run warms caches and is not counted
        started = time.perf_counter()
        picture = render(background, layers, arts)
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
    figures = {name: {"median_ms": statistics.median(v[1:]), "max_ms": max(v[1:])} for name, v in parts.items()}
    print(
        f"{args.characters} characters on {args.size}x{args.size}, {args.runs} runs ({platform.processor() or 'cpu'})"
    )
    for name, figure in figures.items():
        print(f"  {name:15} median {figure['median_ms']:7.1f} ms   max {figure['max_ms']:7.1f} ms")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "render.json").write_text(
        json.dumps({"size": args.size, "characters": args.characters, **figures}, indent=2)
    )


if __name__ == "__main__":
    main()
