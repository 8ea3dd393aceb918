"""A style training runs on the worker that owns the model, only while the queue is empty:
a job queued meanwhile is drawn after at most one more training step, and the training then
goes on where it was and ends as a new, disabled style."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from generation.adapters.store import DjangoJobStore
from generation.events import JobStatus
from generation.manager.loader import DiffusersLoader
from generation.manager.training_runner import TrainingRunner
from generation.manager.worker import ModelManager
from generation.models import Style, StyleTraining
from generation.style_training import DjangoTrainingStore, style_training_create
from tests.doubles import RecordingPublisher
from tests.factories import queue_job
from tests.generation.style_helpers import LIGHT
from tests.generation.test_style_training import png

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(settings: Any, model_cache: Path) -> ModelManager:
    settings.WEE_WAA_MODEL = "tiny"
    settings.WEE_WAA_MODEL_CACHE = model_cache
    settings.WEE_WAA_STYLE_CHECKPOINT_EVERY = 2
    # A pipeline of its own: training adds (and removes) an adapter on the UNet.
    manager = ModelManager(
        store=DjangoJobStore(),
        publisher=RecordingPublisher(),
        loader=DiffusersLoader(model="tiny", device="cpu", cache_dir=model_cache),
        preview_every=0,
        worker_id="host:1:train",
    )
    manager.training = TrainingRunner(DjangoTrainingStore(), manager.worker_id, report_seconds=0)
    manager.load()
    return manager


def test_an_idle_worker_trains_and_a_queued_job_takes_the_device_back(worker: ModelManager, alice: Any) -> None:
    run = style_training_create(
        name="Sunny", trigger_word="wee", files=[png(LIGHT, i) for i in range(10)], steps=6, resolution=64
    )

    assert worker.run_once() is False  # nothing to draw: the device is free
    worker.notify()  # a job is queued while the training holds the device
    job = queue_job(alice)
    assert worker._train_a_little() is True
    run.refresh_from_db()
    assert (run.status, run.step) == (StyleTraining.Status.RUNNING, 1)  # it gave the device back after one step

    assert worker.run_once() is True
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED

    worker._wake.clear()
    while worker._train_a_little():
        pass
    run.refresh_from_db()
    assert run.status == StyleTraining.Status.SUCCEEDED and run.step == 6
    style = Style.objects.get(pk=run.result_id)
    assert not style.is_active and style.lora_sha256


def test_a_worker_without_a_model_does_not_train(worker: ModelManager) -> None:
    style_training_create(name="Sunny", files=[png(LIGHT, i) for i in range(10)], steps=6, resolution=64)
    worker.pipeline = None

    assert worker._train_a_little() is False
    assert StyleTraining.objects.get().status == StyleTraining.Status.QUEUED
