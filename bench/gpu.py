"""The device check (one GPU): SD-Turbo's architecture with random weights, 512², 1 step.

    python -m bench.gpu [--users 32] [--jobs-per-user 8] [--size 512] [--out bench/results/gpu.json]

Prints, against the issue's targets:

- p50 per image at batch 1 through the raw pipeline as the app loads it (compiled, warmed
  buckets): target <= 20 ms;
- warm-up seconds, from ``/healthz`` (``model.warmup_seconds`` and per bucket);
- images/s with ``--users`` closed-loop users through the whole app (API + websocket, one real
  server, ``WEE_WAA_MAX_BATCH=32``): target >= 80 img/s;
- first preview latency (POST to the first ``job.preview``; a 1-step job gets none, so this
  phase queues 3-step jobs): target <= 150 ms.

Needs a CUDA device; exits with a message on a machine without one. It builds
``sd-turbo-random`` once into ``--model-cache``. Figures only from a real run on a GPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.load import ensure_model_built, run_phase, sign_up
from tests.live_server import ROOT, running_server

MODEL = "sd-turbo-random"


def raw_batch_one(cache: Path, size: int, rounds: int) -> float:
    """p50 seconds per image at batch 1, app's loader (compile + buckets + warm-up)."""
    import torch

    from generation.manager.loader import DiffusersLoader
    from generation.manager.types import JobSpec, Slot

    loader = DiffusersLoader(
        model=MODEL, device="cuda", cache_dir=cache, compile=True, warmup_sizes=(size,), max_batch=1
    )
    pipeline, status = loader.load()
    print(f"  raw loader warm-up {status.extra.get('warmup_seconds')} s", flush=True)
    spec = JobSpec(id="b", owner_id=0, prompt="a street", negative_prompt="", seed=1, steps=1,
                   guidance_scale=0.0, width=size, height=size, count=1)  # fmt: skip
    times = []
    for _ in range(rounds):
        torch.cuda.synchronize()
        started = time.perf_counter()
        pipeline.generate([Slot(spec, 0)], lambda step, total, source: False)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    del pipeline
    torch.cuda.empty_cache()
    return statistics.median(times)


async def through_the_app(server: Any, users: int, jobs: int, size: int, steps: int) -> dict[str, Any]:
    clients = await sign_up(server, users)
    return await run_phase(server, clients, jobs, size, steps, 300.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--jobs-per-user", type=int, default=8)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--model-cache", type=Path, default=ROOT / ".data" / "models")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "gpu.json")
    args = parser.parse_args()
    import torch

    if not torch.cuda.is_available():
        sys.exit("bench.gpu needs a CUDA device; none is visible here.")
    ensure_model_built(MODEL, args.model_cache)
    report: dict[str, Any] = {"device": torch.cuda.get_device_name(0), "size": args.size}
    p50 = raw_batch_one(args.model_cache, args.size, args.rounds)
    report["batch1_p50_ms"] = round(p50 * 1000, 2)
    print(f"batch 1 p50 per image: {p50 * 1000:.1f} ms (target <= 20 ms)", flush=True)
    env = {
        "WEE_WAA_MODEL_CACHE": str(args.model_cache), "WEE_WAA_DEVICE": "cuda", "WEE_WAA_COMPILE": "true",
        "WEE_WAA_MAX_BATCH": "32", "WEE_WAA_WARMUP_SIZES": str(args.size), "WEE_WAA_MAX_QUEUE": "10000",
        "WEE_WAA_MAX_UNFINISHED_PER_USER": "100", "WEE_WAA_TORCH_THREADS": str(max(1, (os.cpu_count() or 2) // 2)),
    }  # fmt: skip
    started = time.perf_counter()
    with running_server(MODEL, extra_env=env) as server:
        health = server.health()
        report["server_ready_s"] = round(time.perf_counter() - started, 1)
        report["warmup_seconds"] = health["model"].get("warmup_seconds")
        report["warmup_buckets"] = health["model"].get("warmup_buckets")
        print(f"server ready in {report['server_ready_s']} s; warm-up {report['warmup_seconds']} s", flush=True)
        row = asyncio.run(through_the_app(server, args.users, args.jobs_per_user, args.size, 1))
        report["app"] = row
        print(f"{args.users} users, 1 step: {row['images_per_s']} img/s (target >= 80)", flush=True)
        preview = asyncio.run(through_the_app(server, 4, 3, args.size, 3))
        firsts = preview.get("first_preview_ms", {})
        report["first_preview"] = firsts
        print(f"first preview (3-step jobs): p50 {firsts.get('p50')} ms (target <= 150 ms)", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
