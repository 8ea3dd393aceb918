from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from generation.manager.worker import ModelManager
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


def test_healthz_answers_when_the_database_does(client: Any) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["model"]["loaded"] is False  # no manager runs inside the test process
    assert "state" in body["model"]


def test_healthz_says_503_when_the_database_does_not_answer(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import OperationalError

    from generation.models import Style

    def down(*args: Any, **kwargs: Any) -> bool:
        raise OperationalError("connection refused")

    monkeypatch.setattr(Style.objects, "exists", down)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"].startswith("error")


def test_odd_requests_get_4xx_never_500(alice_api: Any) -> None:
    for method, url in [
        ("get", "/api/v1/jobs/" + "x" * 5000 + "/"),
        ("get", "/api/v1/jobs/?cursor=garbage"),
        ("get", "/api/v1/jobs/?page_size=-3"),
        ("post", "/api/v1/jobs/nope/keep/"),
        ("delete", "/api/v1/jobs/"),
        ("get", "/gallery/?page=abc"),
        ("get", "/media/../../etc/passwd"),
    ]:
        status = getattr(alice_api, method)(url).status_code
        assert status < 500, (method, url, status)


def test_metrics_count_finished_jobs_by_status_and_time_them(client: Any, alice: Any, manager: Any) -> None:
    from generation.metrics import PrometheusMetrics

    def finished_count() -> float:
        text = client.get("/metrics").content.decode()
        for line in text.splitlines():
            if line.startswith('wee_waa_generation_jobs_finished_total{status="succeeded"}'):
                return float(line.split()[-1])
        return 0.0

    before = finished_count()
    assert isinstance(manager, ModelManager)
    manager.metrics = PrometheusMetrics()
    queue_job(alice)
    manager.run_once()

    text = client.get("/metrics").content.decode()
    assert finished_count() == before + 1
    assert "wee_waa_generation_job_duration_seconds_bucket" in text
    assert "wee_waa_generation_jobs_submitted_total" in text


def sample(text: str, prefix: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


def test_metrics_show_the_queue_batches_throughput_previews_waits_and_failures(
    client: Any, alice: Any, bob: Any, manager: Any
) -> None:
    from generation.metrics import PrometheusMetrics

    assert isinstance(manager, ModelManager)
    manager.metrics = PrometheusMetrics()
    manager.preview_every = 1
    before = client.get("/metrics").content.decode()
    queue_job(alice)
    queue_job(bob)
    queue_job(bob, width=128)

    during = client.get("/metrics").content.decode()
    manager.run_once()
    after = client.get("/metrics").content.decode()

    assert sample(during, 'wee_waa_generation_queue_depth{status="queued"}') == 3
    assert sample(after, 'wee_waa_generation_queue_depth{status="queued"}') == 1
    assert (
        sample(after, "wee_waa_generation_batch_images_sum") - sample(before, "wee_waa_generation_batch_images_sum")
        == 2
    )
    assert sample(after, "wee_waa_generation_images_total") - sample(before, "wee_waa_generation_images_total") == 2
    assert sample(after, "wee_waa_generation_images_per_second") > 0
    for histogram in ("pipeline_seconds_per_image", "first_preview_seconds", "job_wait_seconds"):
        name = f"wee_waa_generation_{histogram}_count"
        assert sample(after, name) > sample(before, name), histogram


def test_metrics_count_failures_by_reason(client: Any, alice: Any, manager: Any) -> None:
    from generation.metrics import PrometheusMetrics

    class Broken:
        name, device = "broken", "cpu"

        def generate(self, slots: Any, on_step: Any) -> Any:
            raise ValueError("the scheduler fell over")

    manager.metrics = PrometheusMetrics()
    manager.pipeline = Broken()
    metric = 'wee_waa_generation_failures_total{reason="pipeline"}'
    before = sample(client.get("/metrics").content.decode(), metric)
    queue_job(alice)

    manager.run_once()

    assert sample(client.get("/metrics").content.decode(), metric) == before + 1


def test_manage_py_check_does_not_import_torch_or_diffusers() -> None:
    script = (
        "import os, sys, django;"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'wee_waa.settings');"
        "django.setup();"
        "from django.core.management import call_command;"
        "call_command('check');"
        "import wee_waa.urls, generation.api, generation.consumers, generation.runtime;"
        "print(sorted(m for m in ('torch', 'diffusers', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)

    assert result.stdout.strip().splitlines()[-1] == "[]"
