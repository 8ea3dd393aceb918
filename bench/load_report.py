"""Figures and the printed table of ``bench.load``: percentiles, /metrics scraping, the
batched/sequential ratios and the issue's target checks. Kept apart from the load itself."""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import statistics
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.load import UserSession

PIPELINE_METRIC = "wee_waa_generation_pipeline_seconds_per_image"
BATCH_METRIC_PATTERN = re.compile(r"^wee_waa_generation_batch_(size|images)$")  # images per pipeline call
MODES = ("batched", "sequential")


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
