"""Many users at once, through the real server, API and websocket: fair queue and batching.

    python -m bench.load [--users 1,4,16,32] [--jobs-per-user 5] [--model tiny|sd-turbo-random]
                         [--size 64] [--steps 4] [--max-batch 16] [--timeout 300]
                         [--out bench/results/load.json]

Two modes, one real server each (``manage.py serve``, reused for every users count):
*batched* runs with ``WEE_WAA_MAX_BATCH=<max-batch>``, *sequential* with ``WEE_WAA_MAX_BATCH=1``.
The per-user and queue limits are raised so the bench never meets a 429. For each users count
that many signed-up users open the studio's websocket and run closed-loop: POST a job
(count=1), wait for its ``job.finished``, submit the next, ``--jobs-per-user`` times. Every
user runs one warm-up job before the clock starts.

Reported per users x mode:

- images/s: images finished in the phase / the phase's wall time;
- job latency p50/p95/p99: from sending the POST to receiving ``job.finished``;
- time to the first ``job.progress`` and the first ``job.preview``, from the POST;
- websocket delivery lag of ``job.progress`` (receive time - ``event["sent_at"]``, p50/p95;
  one machine, one clock; it includes the client's own wait for the CPU it shares with the
  server);
- pipeline seconds per image and mean batch size, from the server's ``/metrics`` histograms
  (``wee_waa_generation_pipeline_seconds_per_image``, ``wee_waa_generation_batch_images``) over the phase.

Then the batched/sequential images/s ratio per users count and the issue's two targets,
PASS/FAIL with the numbers (the exit status stays 0). A field the server does not send yet
(``sent_at``, previews, the metrics) reads "n/a". All figures go to ``--out`` as JSON.

The client is one asyncio loop (websockets) plus threads for the blocking urllib calls, so
it takes little of the CPU the server needs. ``sd-turbo-random`` is built once into
``--model-cache`` (default ``.data/models``, shared with the servers) before they start.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from bench.server import ROOT, Client, Server, running_server

FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
PIPELINE_METRIC = "wee_waa_generation_pipeline_seconds_per_image"
BATCH_METRIC_PATTERN = re.compile(r"^wee_waa_generation_batch_(size|images)$")  # images per pipeline call
MODES = ("batched", "sequential")


# ---------------------------------------------------------------------------------------
# One user: a websocket reader that timestamps every event, and a closed loop of jobs.


@dataclass
class JobTrace:
    """Times are ``time.perf_counter()`` readings in the client."""

    job_id: str
    posted_at: float = math.nan
    first_progress: float | None = None
    first_preview: float | None = None
    finished_at: float | None = None
    status: str = ""
    error: str = ""
    images: int = 0
    last_event: str = "none"
    done: asyncio.Event = field(default_factory=asyncio.Event)


class UserSession:
    def __init__(self, client: Client, size: int, steps: int, timeout: float) -> None:
        self.client = client
        self.size = size
        self.steps = steps
        self.timeout = timeout
        self.traces: dict[str, JobTrace] = {}
        self.lags: dict[str, list[float]] = defaultdict(list)
        self.rejections = 0
        self.websocket: Any = None
        self.reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        self.websocket = await websockets.connect(
            self.client.websocket_url, additional_headers=self.client.websocket_headers(), max_size=2**24
        )
        self.reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader
        if self.websocket is not None:
            await self.websocket.close()

    def trace(self, job_id: str) -> JobTrace:
        # Events can arrive before the POST's response: the trace exists from either side.
        if job_id not in self.traces:
            self.traces[job_id] = JobTrace(job_id)
        return self.traces[job_id]

    async def _read(self) -> None:
        async for message in self.websocket:
            received, wall = time.perf_counter(), time.time()
            event = json.loads(message)
            kind = str(event.get("type", ""))
            sent_at = event.get("sent_at")
            if isinstance(sent_at, int | float):
                self.lags[kind].append(wall - sent_at)
            job_id = event.get("job_id")
            if not isinstance(job_id, str):
                continue
            trace = self.trace(job_id)
            trace.last_event = kind
            if kind == "job.progress" and trace.first_progress is None:
                trace.first_progress = received
            elif kind == "job.preview" and trace.first_preview is None:
                trace.first_preview = received
            elif kind == "job.finished" or (kind == "job.snapshot" and event.get("status") in FINAL_STATUSES):
                # A final snapshot also ends the job: a dropped job.finished must not hang us.
                if trace.finished_at is None:
                    trace.finished_at = received
                    trace.status = str(event.get("status", ""))
                    trace.error = str(event.get("error", ""))
                    trace.images = len(event.get("images") or [])
                trace.done.set()

    def _post(self, payload: dict[str, Any]) -> tuple[float, dict[str, Any] | float]:
        """Runs in a thread. Returns (time the request was sent, job JSON or seconds to wait)."""
        request = urllib.request.Request(
            f"{self.client.base}/api/v1/jobs/",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.client.cookie("csrftoken")},
        )
        sent = time.perf_counter()
        try:
            with self.client.opener.open(request, timeout=60) as response:
                return sent, dict(json.load(response))
        except urllib.error.HTTPError as error:
            if error.code != 429:
                raise RuntimeError(f"POST /api/v1/jobs/ answered {error.code}: {error.read()[:300]!r}") from error
            return sent, float(error.headers.get("Retry-After") or 1)

    async def run_job(self, number: int) -> JobTrace:
        payload = {
            "prompt": f"load bench {self.client.username} {number}",
            "width": self.size,
            "height": self.size,
            "steps": self.steps,
            "count": 1,
        }
        while True:
            sent, answer = await asyncio.to_thread(self._post, payload)
            if isinstance(answer, dict):
                break
            self.rejections += 1
            await asyncio.sleep(answer)
        trace = self.trace(str(answer["id"]))
        trace.posted_at = sent
        assert self.reader is not None, "open() first"
        waiter = asyncio.ensure_future(trace.done.wait())
        await asyncio.wait({waiter, self.reader}, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED)
        if waiter.done():
            return trace
        waiter.cancel()
        if self.reader.done():
            cause = self.reader.exception() if not self.reader.cancelled() else None
            raise RuntimeError(f"{self.client.username}: the websocket closed while job {trace.job_id} ran ({cause!r})")
        raise RuntimeError(
            f"{self.client.username}: job {trace.job_id} did not finish within {self.timeout:.0f} s "
            f"(last websocket event: {trace.last_event}); see the server log"
        )

    async def run_jobs(self, count: int, first_number: int = 0) -> list[JobTrace]:
        return [await self.run_job(first_number + index) for index in range(count)]


# ---------------------------------------------------------------------------------------
# Figures.


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None for no data."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 1)


def scrape_metrics(base: str) -> dict[str, float] | None:
    """``/metrics`` as {series name: value summed over labels}; None when unreachable."""
    try:
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as response:
            text = response.read().decode()
    except OSError:
        return None
    totals: dict[str, float] = defaultdict(float)
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_and_labels, _, value = line.rpartition(" ")
        name = name_and_labels.split("{", 1)[0]
        with contextlib.suppress(ValueError):
            totals[name] += float(value)
    return dict(totals)


def histogram_mean(before: dict[str, float] | None, after: dict[str, float] | None, name: str) -> float | None:
    """Mean of the observations a histogram got between two scrapes."""
    if before is None or after is None or f"{name}_count" not in after:
        return None
    count = after[f"{name}_count"] - before.get(f"{name}_count", 0.0)
    total = after[f"{name}_sum"] - before.get(f"{name}_sum", 0.0)
    return total / count if count > 0 else None


def batch_metric(snapshot: dict[str, float] | None) -> str | None:
    for key in snapshot or {}:
        base = key.removesuffix("_count")
        if key.endswith("_count") and BATCH_METRIC_PATTERN.match(base):
            return base
    return None


def per_user_spread(results: Iterable[list[JobTrace]]) -> dict[str, float | None]:
    """How evenly the queue served users: the best and worst user's mean latency."""
    means = [
        statistics.fmean(t.finished_at - t.posted_at for t in traces if t.finished_at is not None)
        for traces in results
        if any(t.finished_at is not None for t in traces)
    ]
    return {"min": ms(min(means, default=None)), "max": ms(max(means, default=None))}


def summarize_phase(
    sessions: list[UserSession],
    results: list[list[JobTrace]],
    wall_s: float,
    before: dict[str, float] | None,
    after: dict[str, float] | None,
) -> dict[str, Any]:
    traces = [trace for user_traces in results for trace in user_traces]
    latencies = [t.finished_at - t.posted_at for t in traces if t.finished_at is not None]
    to_progress = [t.first_progress - t.posted_at for t in traces if t.first_progress is not None]
    to_preview = [t.first_preview - t.posted_at for t in traces if t.first_preview is not None]
    progress_lag = [lag for s in sessions for lag in s.lags.get("job.progress", [])]
    preview_lag = [lag for s in sessions for lag in s.lags.get("job.preview", [])]
    images = sum(t.images for t in traces if t.status == "succeeded")
    batch_name = batch_metric(after)
    pipeline = histogram_mean(before, after, PIPELINE_METRIC)
    mean_batch = histogram_mean(before, after, batch_name) if batch_name else None
    return {
        "jobs": len(traces),
        "failed_jobs": sum(1 for t in traces if t.status != "succeeded"),
        "errors": sorted({t.error for t in traces if t.error})[:5],
        "images": images,
        "wall_s": round(wall_s, 3),
        "images_per_s": round(images / wall_s, 3) if wall_s > 0 else None,
        "latency_ms": {q: ms(percentile(latencies, n)) for q, n in (("p50", 50), ("p95", 95), ("p99", 99))},
        "first_progress_ms": {"p50": ms(percentile(to_progress, 50)), "p95": ms(percentile(to_progress, 95))},
        "first_preview_ms": {"p50": ms(percentile(to_preview, 50)), "p95": ms(percentile(to_preview, 95))},
        "progress_lag_ms": {"p50": ms(percentile(progress_lag, 50)), "p95": ms(percentile(progress_lag, 95))},
        "preview_lag_ms": {"p50": ms(percentile(preview_lag, 50)), "p95": ms(percentile(preview_lag, 95))},
        "progress_events_with_sent_at": len(progress_lag),
        "previews_received": sum(1 for t in traces if t.first_preview is not None),
        "pipeline_s_per_image": None if pipeline is None else round(pipeline, 4),
        "mean_batch_size": None if mean_batch is None else round(mean_batch, 2),
        "per_user_mean_latency_ms": per_user_spread(results),
        "rejections_429": sum(s.rejections for s in sessions),
    }


# ---------------------------------------------------------------------------------------
# Driving a server.


async def run_phase(
    server: Server, clients: list[Client], jobs_per_user: int, size: int, steps: int, timeout: float
) -> dict[str, Any]:
    sessions = [UserSession(client, size, steps, timeout) for client in clients]
    await asyncio.gather(*(session.open() for session in sessions))
    try:
        await asyncio.gather(*(session.run_jobs(1, first_number=10_000) for session in sessions))  # warm-up
        for session in sessions:
            session.traces.clear()
            session.lags.clear()
            session.rejections = 0
        before = await asyncio.to_thread(scrape_metrics, server.url)
        started = time.perf_counter()
        results = await asyncio.gather(*(session.run_jobs(jobs_per_user) for session in sessions))
        wall_s = time.perf_counter() - started
        after = await asyncio.to_thread(scrape_metrics, server.url)
    finally:
        await asyncio.gather(*(session.close() for session in sessions), return_exceptions=True)
    return summarize_phase(sessions, results, wall_s, before, after)


async def sign_up(server: Server, count: int) -> list[Client]:
    clients = [Client(server.url) for _ in range(count)]
    # A few at a time: password hashing is the server's most expensive request.
    limit = asyncio.Semaphore(4)

    async def one(client: Client) -> None:
        async with limit:
            await asyncio.to_thread(client.sign_up)

    await asyncio.gather(*(one(client) for client in clients))
    return clients


async def bench_mode(server: Server, users: list[int], args: argparse.Namespace) -> dict[int, dict[str, Any]]:
    asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(max_workers=max(users) + 4))
    clients = await sign_up(server, max(users))
    rows: dict[int, dict[str, Any]] = {}
    for count in users:
        rows[count] = await run_phase(server, clients[:count], args.jobs_per_user, args.size, args.steps, args.timeout)
        row = rows[count]
        print(
            f"  {count:>3} users: {row['images_per_s']} images/s, "
            f"p95 {row['latency_ms']['p95']} ms, batch {fmt(row['mean_batch_size'])}",
            flush=True,
        )
    return rows


def ensure_model_built(model: str, cache: Path) -> None:
    """Build sd-turbo-random once, in a separate process, before any server waits for it."""
    if model != "sd-turbo-random":
        return
    print(f"building/checking {model} in {cache} ...", flush=True)
    code = (
        "import sys; from pathlib import Path; from generation.manager.sdturbo import ensure_sd_turbo_random; "
        "print(ensure_sd_turbo_random(Path(sys.argv[1])))"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(cache)], cwd=ROOT, check=True)
    print(f"  ready in {time.perf_counter() - started:.1f}s", flush=True)


def host_info() -> dict[str, Any]:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # this client only, not the servers
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)),
        "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
    }


# ---------------------------------------------------------------------------------------
# Output.


def fmt(value: Any, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3g}{suffix}" if abs(value) < 10 else f"{value:.0f}{suffix}"
    return f"{value}{suffix}"


def print_table(results: dict[str, dict[int, dict[str, Any]]]) -> None:
    header = (
        f"{'users':>5} {'mode':<10} {'img/s':>7} {'lat p50':>8} {'p95':>7} {'p99':>7} "
        f"{'1st prog':>8} {'1st prev':>8} {'lag p50':>7} {'lag p95':>7} {'s/img':>7} {'batch':>5} {'fail':>4}"
    )
    print(header)
    print("-" * len(header))
    users = sorted({count for rows in results.values() for count in rows})
    for count in users:
        for mode in MODES:
            row = results.get(mode, {}).get(count)
            if row is None:
                continue
            print(
                f"{count:>5} {mode:<10} {fmt(row['images_per_s']):>7} "
                f"{fmt(row['latency_ms']['p50'], 'ms'):>8} {fmt(row['latency_ms']['p95'], 'ms'):>7} "
                f"{fmt(row['latency_ms']['p99'], 'ms'):>7} {fmt(row['first_progress_ms']['p50'], 'ms'):>8} "
                f"{fmt(row['first_preview_ms']['p50'], 'ms'):>8} {fmt(row['progress_lag_ms']['p50'], 'ms'):>7} "
                f"{fmt(row['progress_lag_ms']['p95'], 'ms'):>7} {fmt(row['pipeline_s_per_image']):>7} "
                f"{fmt(row['mean_batch_size']):>5} {row['failed_jobs']:>4}"
            )
    print("(latencies from the POST; 1st prog/prev = first job.progress/job.preview, p50; lag = job.progress")
    print(" receive time - sent_at; s/img and batch from the server's /metrics over the timed phase)")


def ratios(results: dict[str, dict[int, dict[str, Any]]]) -> dict[int, float | None]:
    out: dict[int, float | None] = {}
    for count, batched in results.get("batched", {}).items():
        sequential = results.get("sequential", {}).get(count)
        if sequential and batched["images_per_s"] and sequential["images_per_s"]:
            out[count] = round(batched["images_per_s"] / sequential["images_per_s"], 2)
        else:
            out[count] = None
    return out


def target_checks(
    results: dict[str, dict[int, dict[str, Any]]], ratio: dict[int, float | None], model: str, device: str
) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    scope = "" if (model == "tiny" and device == "cpu") else f" (target is for CPU tiny; this run: {model} on {device})"
    batched = results.get("batched", {})
    sequential = results.get("sequential", {})
    name = "CPU tiny 16 users: batched >= 2x sequential images/s"
    if ratio.get(16) is not None:
        value = ratio[16]
        checks.append(
            {
                "name": name,
                "passed": bool(value is not None and value >= 2.0),
                "detail": f"batched {batched[16]['images_per_s']} vs sequential {sequential[16]['images_per_s']} "
                f"images/s = {value}x{scope}",
            }
        )
    else:
        checks.append({"name": name, "passed": None, "detail": "n/a: run with 16 in --users"})
    name = "p95 latency at 16 users <= 2x single-user p95 (batched)"
    p95_16 = batched.get(16, {}).get("latency_ms", {}).get("p95")
    p95_1 = batched.get(1, {}).get("latency_ms", {}).get("p95")
    if p95_16 is not None and p95_1 is not None:
        checks.append(
            {
                "name": name,
                "passed": p95_16 <= 2 * p95_1,
                "detail": f"{p95_16} ms vs 2 x {p95_1} ms = {round(2 * p95_1, 1)} ms "
                f"({round(p95_16 / p95_1, 2)}x){scope}",
            }
        )
    else:
        checks.append({"name": name, "passed": None, "detail": "n/a: run with 1 and 16 in --users"})
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", default="1,4,16,32", help="comma-separated users counts")
    parser.add_argument("--jobs-per-user", type=int, default=5)
    parser.add_argument("--model", default="tiny", help="tiny, sd-turbo-random, a hub id or a local folder")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--max-batch", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds one job may take")
    parser.add_argument("--modes", default=",".join(MODES), help="batched,sequential or one of them")
    parser.add_argument("--model-cache", type=Path, default=ROOT / ".data" / "models")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "load.json")
    args = parser.parse_args()
    users = sorted({int(part) for part in args.users.split(",") if part.strip()})
    modes = [mode for mode in MODES if mode in args.modes.split(",")]
    if not users or min(users) < 1 or not modes:
        parser.error("--users needs positive counts and --modes batched and/or sequential")

    ensure_model_built(args.model, args.model_cache)
    limits = {
        "WEE_WAA_MODEL_CACHE": str(args.model_cache),
        "WEE_WAA_MAX_UNFINISHED_PER_USER": str(max(100, 4 * args.jobs_per_user)),
        "WEE_WAA_MAX_QUEUE": str(max(10_000, 4 * max(users))),
    }
    results: dict[str, dict[int, dict[str, Any]]] = {}
    servers: dict[str, dict[str, Any]] = {}
    for mode in modes:
        max_batch = args.max_batch if mode == "batched" else 1
        print(f"{mode}: starting a server with WEE_WAA_MAX_BATCH={max_batch} ...", flush=True)
        started = time.perf_counter()
        with running_server(args.model, extra_env={**limits, "WEE_WAA_MAX_BATCH": str(max_batch)}) as server:
            health = server.health()
            print(f"  ready in {time.perf_counter() - started:.1f}s: {health['model']}", flush=True)
            results[mode] = asyncio.run(bench_mode(server, users, args))
            servers[mode] = {
                "max_batch": max_batch,
                "model": health["model"].get("name"),
                "device": health["model"].get("device"),
                "rss_mib": round(server.rss_mib(), 1),
            }

    first = next(iter(servers.values()))
    model, device = str(first["model"]), str(first["device"])
    ratio = ratios(results)
    checks = target_checks(results, ratio, model, device)

    print()
    print(
        f"model={model} device={device} size={args.size}px steps={args.steps} "
        f"jobs/user={args.jobs_per_user} max-batch={args.max_batch}"
    )
    print_table(results)
    print()
    print("batched / sequential images/s: " + ", ".join(f"{n} users {fmt(r, 'x')}" for n, r in ratio.items()))
    for check in checks:
        verdict = "n/a " if check["passed"] is None else ("PASS" if check["passed"] else "FAIL")
        print(f"[{verdict}] {check['name']}: {check['detail']}")

    report = {
        "model": model,
        "device": device,
        "size": args.size,
        "steps": args.steps,
        "jobs_per_user": args.jobs_per_user,
        "max_batch": args.max_batch,
        "users": users,
        "host": host_info(),
        "servers": servers,
        "results": {mode: {str(count): row for count, row in rows.items()} for mode, rows in results.items()},
        "batched_over_sequential": {str(count): value for count, value in ratio.items()},
        "targets": checks,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nclient CPU time {report['host']['client_cpu_s']} s; wrote {args.out}")


if __name__ == "__main__":
    main()
