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
import os
import platform
import resource
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import websockets

from bench.load_report import (
    MODES,
    JobTrace,
    fmt,
    print_table,
    ratios,
    scrape_metrics,
    summarize_phase,
    target_checks,
)
from tests.live_server import ROOT, Client, Server, running_server

FINAL_STATUSES = frozenset({"succeeded", "failed", "cancelled"})


# ---------------------------------------------------------------------------------------
# One user: a websocket reader that timestamps every event, and a closed loop of jobs.


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
        if getattr(args, "compare_raw", False):  # alternating: the raw round right after the app's
            batch = max(1, round(row.get("mean_batch_size") or 1))
            raw = await asyncio.to_thread(raw_round, args, batch)
            app = 1 / row["images_per_s"] if row.get("images_per_s") else None
            row["raw_batch"], row["raw_s_per_image"] = batch, raw
            row["app_over_raw"] = round(app / raw, 2) if app and raw else None
            print(
                f"  raw pipeline at batch {batch}: {raw * 1000:.1f} ms/image; app/raw {fmt(row['app_over_raw'], 'x')}"
            )
        print(
            f"  {count:>3} users: {row['images_per_s']} images/s, "
            f"p95 {row['latency_ms']['p95']} ms, batch {fmt(row['mean_batch_size'])}",
            flush=True,
        )
    return rows


def raw_round(args: argparse.Namespace, batch: int) -> float:
    """The raw pipeline in its own process (``bench.raw``), with the server idle meanwhile."""
    command = [sys.executable, "-m", "bench.raw", "--json", "--model", args.model, "--size", str(args.size),
               "--steps", str(args.steps), "--batch", str(batch), "--model-cache", str(args.model_cache)]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds_per_image"])


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
    parser.add_argument(
        "--compare-raw",
        action="store_true",
        help="after each app phase run the raw pipeline at the phase's mean batch size (alternating), "
        "print app/raw per image, batched/sequential and the POST bench at queue lengths 0/500/5000",
    )
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

    if args.compare_raw:
        batched = results.get("batched", {})
        for count, row in batched.items():
            target = 1.25 if count == 1 else 1.5
            verdict = (
                "n/a " if row.get("app_over_raw") is None else ("PASS" if row["app_over_raw"] <= target else "FAIL")
            )
            print(f"[{verdict}] app/raw per image at {count} users (batch {row.get('raw_batch')}): "
                  f"{fmt(row.get('app_over_raw'), 'x')} (target <= {target}x)")  # fmt: skip
        for count, value in ratio.items():
            verdict = "n/a " if value is None else ("PASS" if value >= 4 else "FAIL")
            print(f"[{verdict}] batched/sequential at {count} users: {fmt(value, 'x')} (target >= 4x at 16 users)")
        print("POST /api/v1/jobs/ (manager off, a real server, concurrent clients):", flush=True)
        subprocess.run([sys.executable, "-m", "bench.api_queue", "--seconds", "4"], cwd=ROOT, check=False)

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
