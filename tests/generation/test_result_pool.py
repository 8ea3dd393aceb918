"""The drawing thread hands results to the pool: stored in one transaction per batch, events in order."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from generation.adapters.store import DjangoJobStore
from generation.events import JobStatus
from generation.manager.types import JobLost, ModelStatus, Pipeline
from generation.manager.worker import ModelManager
from generation.models import Background, GenerationJob
from tests.doubles import RecordingPublisher
from tests.factories import queue_job
from tests.pipelines import PreloadedLoader


class ThreadNotingStore(DjangoJobStore):
    def __init__(self) -> None:
        self.writers: list[str] = []

    def succeed_batch(self, finished: Any, model_name: str, worker: str) -> Any:
        self.writers.append(threading.current_thread().name)
        return super().succeed_batch(finished, model_name, worker)


@pytest.mark.django_db(transaction=True)
def test_results_are_stored_off_the_drawing_thread_and_announced_in_order(
    tiny_loaded: tuple[Pipeline, ModelStatus], alice: Any, bob: Any
) -> None:
    store, publisher = ThreadNotingStore(), RecordingPublisher()
    manager = ModelManager(
        store=store, publisher=publisher, loader=PreloadedLoader(tiny_loaded), preview_every=1, result_workers=2
    )
    manager.load()
    manager.results = type(manager.results)(2, on_close=store.close)
    jobs = [queue_job(alice, steps=3), queue_job(bob, steps=3), queue_job(alice, steps=3, count=2)]

    assert manager.run_until_idle() == 1  # one batch: same size and steps

    assert store.writers and all(name.startswith("wee-waa-results") for name in store.writers)
    for job in jobs:
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED
    assert Background.objects.count() == 4
    for job in jobs:
        types = [str(event["type"]) for _, event in publisher.events if event.get("job_id") == job.id]
        assert types[0] == "job.snapshot" and types[-1] == "job.finished"
        assert types.count("job.finished") == 1
        assert types.index("job.preview") < types.index("job.finished")
    manager.results.close()


@pytest.mark.django_db
def test_a_batch_is_written_in_one_transaction_and_a_lost_job_keeps_no_files(
    tiny_loaded: tuple[Pipeline, ModelStatus], alice: Any, bob: Any
) -> None:
    from django.core.files.storage import default_storage
    from PIL import Image

    store = DjangoJobStore()
    queue_job(alice), queue_job(bob)
    specs = store.claim_batch("w1", 16, 30)
    GenerationJob.objects.filter(id=specs[1].id).update(worker="someone-else")
    picture = Image.new("RGB", (64, 64), "white")

    with CaptureQueriesContext(connection) as queries:
        outcomes = store.succeed_batch([(spec, [picture]) for spec in specs], "tiny", "w1")

    savepoints = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 1
    assert isinstance(outcomes[0], list) and len(outcomes[0]) == 1
    assert isinstance(outcomes[1], JobLost)
    assert Background.objects.filter(job_id=specs[1].id).count() == 0
    assert default_storage.listdir(f"backgrounds/{specs[1].id}")[1] == []
