from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest

from generation.manager.worker import ModelManager
from tests.factories import queue_job
from tests.live_server import free_port

pytestmark = pytest.mark.django_db


def test_healthz_tells_anyone_only_whether_each_service_answers(client: Any) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "channel_layer": "ok"}


def test_healthz_answers_head_for_load_balancers(client: Any) -> None:
    assert client.head("/healthz").status_code == 200


def test_healthz_shows_the_internals_to_staff(client: Any, alice: Any) -> None:
    alice.is_staff = True
    alice.save()
    client.force_login(alice)

    body = client.get("/healthz").json()

    assert body["model"]["loaded"] is False  # no manager runs inside the test process
    assert "state" in body["model"]
    assert body["manager"]["mode"] in ("inprocess", "off")
    assert body["workers"] == []
    assert body["errors"] == {}


def test_healthz_shows_the_internals_to_the_health_token_only(client: Any, settings: Any, alice: Any) -> None:
    settings.WEE_WAA_HEALTH_TOKEN = "s3cret-health"
    client.force_login(alice)  # a signed-in user who is not staff sees no more than anyone

    plain = client.get("/healthz").json()
    wrong = client.get("/healthz", HTTP_AUTHORIZATION="Bearer nope").json()
    right = client.get("/healthz", HTTP_AUTHORIZATION="Bearer s3cret-health").json()

    assert "manager" not in plain and "model" not in plain and "workers" not in plain
    assert "manager" not in wrong
    assert right["manager"]["mode"] in ("inprocess", "off") and "model" in right


def test_an_empty_health_token_grants_nothing(client: Any, settings: Any) -> None:
    settings.WEE_WAA_HEALTH_TOKEN = ""

    assert "manager" not in client.get("/healthz", HTTP_AUTHORIZATION="Bearer ").json()


def test_healthz_says_503_when_the_database_does_not_answer(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import OperationalError

    from generation.models import Style

    def down(*args: Any, **kwargs: Any) -> bool:
        raise OperationalError("connection refused")

    monkeypatch.setattr(Style.objects, "exists", down)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "error"
    assert response.json()["status"] == "error"


def test_a_dead_cache_and_channel_layer_make_healthz_degraded_not_down(client: Any, settings: Any) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there: connection refused
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": dead}}
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "wee_waa.channel_layer.RedisChannelLayer", "CONFIG": {"hosts": [dead]}}
    }
    settings.WEE_WAA_HEALTH_TOKEN = "t"  # (Django's test signals rebuild the cache handler)

    started = time.monotonic()
    response = client.get("/healthz", HTTP_AUTHORIZATION="Bearer t")
    took = time.monotonic() - started

    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["database"], body["cache"], body["channel_layer"]) == (
        "degraded",
        "ok",
        "error",
        "error",
    )
    assert body["errors"]["cache"] == "ConnectionError"
    assert took < 10


def test_metrics_are_open_while_no_token_is_set(client: Any, settings: Any) -> None:
    settings.WEE_WAA_METRICS_TOKEN = ""

    response = client.get("/metrics")

    assert response.status_code == 200
    assert b"wee_waa_generation" in response.content


def test_metrics_need_the_bearer_token_once_one_is_set(client: Any, settings: Any) -> None:
    settings.WEE_WAA_METRICS_TOKEN = "scrape-me"

    missing = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer guess")
    right = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")

    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 403
    assert b"wee_waa_generation" not in missing.content + wrong.content
    assert right.status_code == 200
    assert b"wee_waa_generation" in right.content


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
    queue_job(alice, steps=3)  # previews start at 3 steps
    queue_job(bob, steps=3)
    queue_job(bob, width=128, steps=3)

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

        def text_windows(self, job: Any) -> int:
            return 1

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
