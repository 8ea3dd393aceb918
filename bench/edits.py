"""Edits beside drawings: images/s and latency, batched vs sequential, in one run.

    python -m bench.edits [--model tiny|sd-turbo-random|<hub id or folder>] [--size 64]
                          [--steps 4] [--strength 0.5] [--batch 8] [--rounds 3] [--threads 1]
                          [--out bench/results/edits.json]

The equivalent of ``bench.load --kind edit`` at the pipeline: the model is loaded once with
``DiffusersLoader`` (as the server loads it), then for each kind (a drawing, an edit of a
picture, an edit inside a painted mask) ``--batch`` images are drawn in one call (*batched*,
as the manager does when that many compatible jobs wait) and one call each (*sequential*).
Each image has its own prompt, seed and source, as different users' jobs would.

Reported per kind x mode: images/s, and per-image latency p50/p95 (from the start of the round
to the call that returns that image). Then the batched/sequential speed-up per kind, and the
edit/draw cost ratio. Torch's threads are limited (``--threads``) so the bench does not take
the machine from whatever else runs on it. All figures go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

KINDS = ("draw", "edit", "inpaint")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def sources(count: int, size: int) -> tuple[list[Any], Any]:
    import numpy
    from PIL import Image, ImageDraw

    rng = numpy.random.default_rng(0)
    pictures = [
        Image.fromarray(rng.integers(0, 256, size=(size // 8, size // 8, 3), dtype=numpy.uint8)).resize(
            (size, size), Image.Resampling.NEAREST
        )
        for _ in range(count)
    ]
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).ellipse((size // 4, size // 4, size * 3 // 4, size * 3 // 4), fill=255)
    return pictures, mask


def specs(kind: str, args: argparse.Namespace, pictures: list[Any], mask: Any) -> list[Any]:
    from generation.manager.types import JobKind, JobSpec, batch_variant

    strength = 1.0 if kind == JobKind.DRAW else args.strength
    return [
        JobSpec(
            id=f"{kind}-{index}",
            owner_id=index,
            prompt=f"scene {index}, make it snowy",
            negative_prompt="",
            seed=1000 + index,
            steps=args.steps,
            guidance_scale=0.0,
            width=args.size,
            height=args.size,
            count=1,
            kind=kind,
            strength=strength,
            source=None if kind == JobKind.DRAW else pictures[index],
            mask=mask if kind == JobKind.INPAINT else None,
            variant=batch_variant(kind, strength),
        )
        for index in range(args.batch)
    ]


def round_of(pipeline: Any, jobs: list[Any], batched: bool) -> tuple[float, list[float]]:
    """(wall seconds, per-image latencies) of one round."""
    from generation.manager.types import Slot

    def no_stop(step: int, total: int, source: Any) -> bool:
        return False

    started = time.perf_counter()
    latencies: list[float] = []
    groups = [jobs] if batched else [[job] for job in jobs]
    for group in groups:
        pipeline.generate([Slot(job, 0) for job in group], no_stop)
        latencies.extend([time.perf_counter() - started] * len(group))
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--model-cache", type=Path, default=Path(".data/models"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--strength", type=float, default=0.5)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/results/edits.json"))
    args = parser.parse_args()

    from generation.manager.loader import DiffusersLoader

    pipeline, status = DiffusersLoader(
        model=args.model, device=args.device, cache_dir=args.model_cache, threads=args.threads
    ).load()
    pictures, mask = sources(args.batch, args.size)
    results: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        jobs = specs(kind, args, pictures, mask)
        round_of(pipeline, jobs[:2], batched=True)  # warm-up: builds the edit pipelines once
        for batched in (True, False):
            walls, latencies = [], []
            for _ in range(args.rounds):
                wall, latency = round_of(pipeline, jobs, batched)
                walls.append(wall)
                latencies.extend(latency)
            mode = "batched" if batched else "sequential"
            results[f"{kind}/{mode}"] = {
                "images_per_second": round(args.batch / statistics.median(walls), 3),
                "latency_p50": round(percentile(latencies, 0.5), 4),
                "latency_p95": round(percentile(latencies, 0.95), 4),
            }
    print(f"model {status.model} on {status.device}, {args.size}px, {args.steps} steps, strength {args.strength}, "
          f"batch {args.batch}, {args.rounds} rounds, torch threads {args.threads}")  # fmt: skip
    print(f"{'kind/mode':<20}{'img/s':>10}{'p50 s':>10}{'p95 s':>10}")
    for name, row in results.items():
        print(f"{name:<20}{row['images_per_second']:>10}{row['latency_p50']:>10}{row['latency_p95']:>10}")
    summary = {
        kind: round(
            results[f"{kind}/batched"]["images_per_second"] / results[f"{kind}/sequential"]["images_per_second"], 2
        )
        for kind in KINDS
    }
    print("batched / sequential:", ", ".join(f"{kind} {ratio}x" for kind, ratio in summary.items()))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"args": {k: str(v) for k, v in vars(args).items()}, "results": results, "speedup": summary}, indent=2
        )
    )


if __name__ == "__main__":
    main()
