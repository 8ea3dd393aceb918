"""The raw pipeline, no app around it: seconds per image at a batch size, the yardstick for
``python -m bench.load --compare-raw``.

    python -m bench.raw [--model tiny] [--size 64] [--steps 4] [--batch 1] [--rounds 5] [--json]

Loads the model with the app's own loader (same dtype, threads and device tuning), then times
``pipe(...)`` alone (PIL output, as the app asks), median of ``--rounds`` after one warm-up.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from tests.live_server import ROOT


def raw_seconds_per_image(model: str, cache: Path, size: int, steps: int, batch: int, rounds: int) -> float:
    import torch

    from generation.manager.loader import DiffusersLoader

    pipeline, _status = DiffusersLoader(model=model, device="auto", cache_dir=cache).load()
    pipe = pipeline.pipe  # type: ignore[attr-defined]
    prompts = [f"a street, picture {index}" for index in range(batch)]

    def once() -> float:
        generators = [torch.Generator("cpu").manual_seed(index) for index in range(batch)]
        started = time.perf_counter()
        with torch.inference_mode():
            pipe(prompt=prompts, num_inference_steps=steps, guidance_scale=0.0, width=size, height=size,
                 generator=generators, output_type="pil")  # fmt: skip
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        return time.perf_counter() - started

    once()
    return statistics.median(once() for _ in range(rounds)) / batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny")
    parser.add_argument("--model-cache", type=Path, default=ROOT / ".data" / "models")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    seconds = raw_seconds_per_image(args.model, args.model_cache, args.size, args.steps, args.batch, args.rounds)
    if args.json:
        print(json.dumps({"batch": args.batch, "seconds_per_image": seconds}))
    else:
        print(f"raw pipeline, batch {args.batch}: {seconds * 1000:.1f} ms per image")


if __name__ == "__main__":
    main()
