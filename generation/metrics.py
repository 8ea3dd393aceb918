"""Prometheus metrics of the model manager, exported on /metrics by django-prometheus."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from generation.manager.types import ModelStatus

JOBS_SUBMITTED = Counter("wee_waa_generation_jobs_submitted_total", "Generation jobs accepted by the API")
JOBS_FINISHED = Counter(
    "wee_waa_generation_jobs_finished_total", "Generation jobs that reached a final status", ["status"]
)
JOB_DURATION = Histogram(
    "wee_waa_generation_job_duration_seconds",
    "Time from a job being claimed to its final status",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160),
)
MODEL_LOADED = Gauge("wee_waa_model_loaded", "1 when the pipeline is resident and ready", ["model", "device"])


class PrometheusMetrics:
    def job_finished(self, status: str, duration: float) -> None:
        JOBS_FINISHED.labels(status=status).inc()
        JOB_DURATION.observe(duration)

    def model_state(self, status: ModelStatus) -> None:
        MODEL_LOADED.labels(model=status.model or status.requested_model, device=status.device or "-").set(
            1 if status.loaded else 0
        )
