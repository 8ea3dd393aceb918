"""Generate → final websocket event, through the real server, API and websocket.

    python -m bench.latency [--runs 20] [--size 64] [--model tiny]

Prints the median and spread of the time from the POST that queues a job to the job's final
websocket event, the time to the first progress event, and the server's memory (RSS) with
the model loaded. Writes the figures as JSON to bench/results/latency.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

import websockets

from tests.live_server import Client, running_server


async def measure(base: str, runs: int, warmup: int, size: int, steps: int) -> dict[str, Any]:
    client = Client(base)
    await asyncio.to_thread(client.sign_up)
    totals: list[float] = []
    first_progress: list[float] = []
    async with websockets.connect(client.websocket_url, additional_headers=client.websocket_headers()) as ws:
        for run in range(warmup + runs):
            payload = {"prompt": f"bench scene {run}", "width": size, "height": size, "steps": steps, "count": 1}
            started = time.perf_counter()
            job = await asyncio.to_thread(client.create_job, payload)
            progress_at = None
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), timeout=120))
                if event.get("job_id") != job["id"]:
                    continue
                if event["type"] == "job.progress" and progress_at is None:
                    progress_at = time.perf_counter() - started
                if event["type"] == "job.finished":
                    assert event["status"] == "succeeded", event
                    break
            if run >= warmup:
                totals.append(time.perf_counter() - started)
                first_progress.append(progress_at or float("nan"))
    return {"total": totals, "first_progress": first_progress}


def summarize(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
        "min_ms": round(ordered[0] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--model", default="tiny")
    args = parser.parse_args()

    started = time.perf_counter()
    with running_server(args.model) as server:
        ready_s = time.perf_counter() - started
        idle_rss = server.rss_mib()
        figures = asyncio.run(measure(server.url, args.runs, args.warmup, args.size, args.steps))
        busy_rss = server.rss_mib()
        health = server.health()

    result = {
        "model": health["model"]["name"],
        "device": health["model"]["device"],
        "size": args.size,
        "steps": args.steps,
        "runs": args.runs,
        "server_ready_s": round(ready_s, 2),
        "rss_mib_model_loaded": round(idle_rss, 1),
        "rss_mib_after_runs": round(busy_rss, 1),
        "generate_to_final_event": summarize(figures["total"]),
        "generate_to_first_progress": summarize(figures["first_progress"]),
    }
    print(f"model={result['model']} device={result['device']} size={args.size}px steps={args.steps} runs={args.runs}")
    print(f"{'measure':<32}{'median':>10}{'p90':>10}{'min':>10}{'max':>10}")
    for key in ("generate_to_final_event", "generate_to_first_progress"):
        row = result[key]
        print(
            f"{key:<32}{row['median_ms']:>8.1f}ms{row['p90_ms']:>8.1f}ms{row['min_ms']:>8.1f}ms{row['max_ms']:>8.1f}ms"
        )
    print(
        f"server ready (model loaded) in {ready_s:.1f}s; RSS {idle_rss:.0f} MiB loaded, {busy_rss:.0f} MiB after runs"
    )
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "latency.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
