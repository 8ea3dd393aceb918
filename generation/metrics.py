"""Prometheus metrics of the model manager, exported on /metrics by django-prometheus.

A ``generation_worker`` process exports its own with ``--metrics-port``; the queue depth is
read from the database at scrape time, so every process reports the same true figure.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from generation.manager.types import ModelStatus

logger = logging.getLogger(__name__)

SECONDS = (0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320)

JOBS_SUBMITTED = Counter("wee_waa_generation_jobs_submitted_total", "Generation jobs accepted by the API")
JOBS_REFUSED = Counter(
    "wee_waa_generation_jobs_refused_total", "Generation jobs refused because a queue limit was reached", ["limit"]
)
JOBS_FINISHED = Counter(
    "wee_waa_generation_jobs_finished_total", "Generation jobs that reached a final status", ["status"]
)
JOB_DURATION = Histogram(
    "wee_waa_generation_job_duration_seconds", "Time from a job being claimed to its final status", buckets=SECONDS
)
JOB_WAIT = Histogram(
    "wee_waa_generation_job_wait_seconds", "Time a job waited in the queue before a worker claimed it", buckets=SECONDS
)
BATCH_SIZE = Histogram(
    "wee_waa_generation_batch_images", "Images drawn per pipeline call", buckets=(1, 2, 4, 8, 16, 32, 64, 128)
)
IMAGES = Counter("wee_waa_generation_images_total", "Images drawn by pipeline calls that finished")
IMAGES_PER_SECOND = Gauge("wee_waa_generation_images_per_second", "Measured throughput of this process (smoothed)")
PIPELINE_PER_IMAGE = Histogram(
    "wee_waa_generation_pipeline_seconds_per_image",
    "Pipeline (GPU) time of a call divided by its images",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
FIRST_PREVIEW = Histogram(
    "wee_waa_generation_first_preview_seconds", "Time from a claim to the job's first preview", buckets=SECONDS
)
FAILURES = Counter("wee_waa_generation_failures_total", "Drawing failures by reason", ["reason"])
MANAGER_ALIVE = Gauge("wee_waa_generation_manager_alive", "1 while this process's model manager thread runs")
MANAGER_RESTARTS = Counter("wee_waa_generation_manager_restarts_total", "Times the manager thread was restarted")
EVENTS_FAILED = Counter(
    "wee_waa_generation_events_failed_total",
    "Websocket events that could not be handed to the channel layer (a card updates late)",
    ["type"],
)
MODEL_LOADED = Gauge("wee_waa_model_loaded", "1 when the pipeline is resident and ready", ["model", "device"])
# Per process: the sum over web processes is the number of open studio tabs and programs.
WEBSOCKET_CONNECTIONS = Gauge(
    "wee_waa_generation_websocket_connections", "Open /ws/generation/ sockets that joined their user's group"
)


class QueueDepthCollector(Collector):
    """Queued and running jobs, counted in the database when scraped."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """Lets the registry know the name without a database query at import."""
        yield GaugeMetricFamily("wee_waa_generation_queue_depth", "Jobs waiting or drawing", labels=["status"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from django.db import DatabaseError
        from django.db.models import Count

        from generation.events import JobStatus
        from generation.models import GenerationJob

        family = GaugeMetricFamily("wee_waa_generation_queue_depth", "Jobs waiting or drawing", labels=["status"])
        try:
            counts = dict(
                GenerationJob.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
                .order_by()
                .values("status")
                .annotate(n=Count("id"))
                .values_list("status", "n")
            )
        except (DatabaseError, RuntimeError):  # RuntimeError: no database at all (tests without one)
            logger.warning("Queue depth unavailable: the database did not answer")
            return
        for status in (JobStatus.QUEUED, JobStatus.RUNNING):
            family.add_metric([status.value], counts.get(status.value, 0))
        yield family


_queue_depth = QueueDepthCollector()
REGISTRY.register(_queue_depth)


class PrometheusMetrics:
    def job_finished(self, status: str, duration: float) -> None:
        JOBS_FINISHED.labels(status=status).inc()
        JOB_DURATION.observe(duration)

    def job_waited(self, seconds: float) -> None:
        JOB_WAIT.observe(max(0.0, seconds))

    def batch_ran(self, images: int, seconds: float) -> None:
        BATCH_SIZE.observe(images)
        IMAGES.inc(images)
        for _ in range(images):
            PIPELINE_PER_IMAGE.observe(seconds / images)

    def first_preview(self, seconds: float) -> None:
        FIRST_PREVIEW.observe(seconds)

    def failure(self, reason: str) -> None:
        FAILURES.labels(reason=reason).inc()

    def throughput(self, images_per_second: float) -> None:
        IMAGES_PER_SECOND.set(images_per_second)

    def manager_state(self, alive: bool, restarted: bool = False) -> None:
        MANAGER_ALIVE.set(1 if alive else 0)
        if restarted:
            MANAGER_RESTARTS.inc()

    def model_state(self, status: ModelStatus) -> None:
        MODEL_LOADED.labels(model=status.model or status.requested_model, device=status.device or "-").set(
            1 if status.loaded else 0
        )


ADAPTER_SECONDS = Histogram(
    "wee_waa_style_adapter_seconds",
    "Time to load, switch or unload a style's LoRA adapter",
    ["event"],
    buckets=(0.001, 0.005, 0.02, 0.1, 0.5, 2, 10),
)


def adapter_timing(event: str, seconds: float) -> None:
    """The adapter cache's timing callback: how much switching styles costs, per event."""
    ADAPTER_SECONDS.labels(event).observe(seconds)
