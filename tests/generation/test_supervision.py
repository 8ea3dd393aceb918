"""The manager thread never dies silently: it is restarted, and /healthz and /metrics say so."""

from __future__ import annotations

import time
from typing import Any

import pytest
from prometheus_client import REGISTRY

from generation import runtime
from generation.adapters.store import DjangoJobStore
from generation.events import JobStatus
from generation.manager.loader import pick_dtype, tune_for_device
from generation.manager.worker import ModelManager
from generation.metrics import PrometheusMetrics
from generation.models import GenerationJob
from tests.doubles import RecordingPublisher
from tests.factories import queue_job
from tests.pipelines import PreloadedLoader


class ThreadKiller(BaseException):
    """Not an Exception: it escapes the loop's own error handling, like a bug in it would."""


def wait_for(condition: Any, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_loop_that_dies_is_restarted_and_its_jobs_are_finished(tiny_loaded: Any, alice: Any) -> None:
    class DiesOnce:
        """The tiny pipeline, but the first call breaks the way only a bug would."""

        def __init__(self, inner: Any) -> None:
            self.inner, self.name, self.device, self.died = inner, inner.name, inner.device, False

        def text_windows(self, job: Any) -> int:
            return self.inner.text_windows(job)

        def generate(self, slots: Any, on_step: Any) -> Any:
            if not self.died:
                self.died = True
                raise ThreadKiller("the loop broke while holding a job")
            return self.inner.generate(slots, on_step)

    restarts_before = REGISTRY.get_sample_value("wee_waa_generation_manager_restarts_total") or 0.0
    pipeline, status = tiny_loaded
    manager = ModelManager(
        store=DjangoJobStore(),
        publisher=RecordingPublisher(),
        loader=PreloadedLoader((DiesOnce(pipeline), status)),
        metrics=PrometheusMetrics(),
        poll_seconds=0.05,
        lease_seconds=60,
    )
    job = queue_job(alice)
    manager.start()
    try:
        wait_for(lambda: GenerationJob.objects.get(id=job.id).status == JobStatus.SUCCEEDED)
    finally:
        manager.stop()

    job.refresh_from_db()
    assert job.attempts == 2  # handed back at once (not after the 60 s lease), then drawn
    assert manager.restarts == 1
    assert "the loop broke" in manager.last_error
    assert REGISTRY.get_sample_value("wee_waa_generation_manager_restarts_total") == restarts_before + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the point of it
def test_the_heartbeat_restarts_a_dead_manager_thread_and_healthz_only_reports_it(
    tiny_loaded: Any, client: Any, monkeypatch: pytest.MonkeyPatch, settings: Any, alice: Any
) -> None:
    class DiesWhileLoading(PreloadedLoader):
        """The first load fails the way only a bug would: outside the loop's own error handling,
        so the supervisor thread itself ends."""

        loads = 0

        def load(self) -> Any:
            self.loads += 1
            if self.loads == 1:
                raise ThreadKiller("the supervisor died while loading")
            return super().load()

    settings.WEE_WAA_HEALTH_TOKEN = "health-secret"
    manager = ModelManager(
        store=DjangoJobStore(),
        publisher=RecordingPublisher(),
        loader=DiesWhileLoading(tiny_loaded),
        poll_seconds=0.05,
        lease_seconds=0.6,  # a heartbeat every 0.2 s
    )
    monkeypatch.setattr(runtime, "_current", runtime.Runtime(manager=manager))
    job = queue_job(alice)
    manager.start()
    try:
        # Nobody asks /healthz: the manager's own heartbeat brings the thread back.
        wait_for(lambda: GenerationJob.objects.get(id=job.id).status == JobStatus.SUCCEEDED)
        body = client.get("/healthz", HTTP_AUTHORIZATION="Bearer health-secret").json()
    finally:
        manager.stop()

    assert manager.restarts == 1
    assert body["manager"]["restarts"] == 1
    assert body["manager"]["worker"] == manager.worker_id
    assert body["manager"]["mode"] == "inprocess"


@pytest.mark.django_db(transaction=True)
def test_a_get_of_healthz_never_starts_a_dead_manager(
    tiny_loaded: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = ModelManager(
        store=DjangoJobStore(), publisher=RecordingPublisher(), loader=PreloadedLoader(tiny_loaded), poll_seconds=0.05
    )
    monkeypatch.setattr(runtime, "_current", runtime.Runtime(manager=manager))
    manager.start()
    wait_for(lambda: manager.status.loaded)
    manager.stop()  # stopped on purpose (shutdown): it must stay stopped

    for _ in range(3):
        client.get("/healthz")

    assert not manager.alive
    assert manager.restarts == 0


def test_a_cpu_stays_in_full_precision_and_a_gpu_uses_half() -> None:
    import torch

    assert pick_dtype("cpu", "auto") == torch.float32
    assert pick_dtype("cpu", "fp16") == torch.float32
    assert pick_dtype("cuda", "auto") == torch.float16
    assert pick_dtype("cuda", "bf16") == torch.bfloat16
    assert pick_dtype("cuda", "fp32") == torch.float32


def test_the_gpu_tuning_leaves_a_cpu_pipeline_alone(tiny_loaded: Any) -> None:
    pipeline = tiny_loaded[0]
    before = type(pipeline.pipe.unet)

    assert tune_for_device(pipeline.pipe, "cpu", compile_unet=True) is pipeline.pipe
    assert type(pipeline.pipe.unet) is before
