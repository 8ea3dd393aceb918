"""One runtime per process: built and started at server startup on the server's loop, stopped
at shutdown, shared by services; failed sends are logged and counted, never raised."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import InMemoryChannelLayer

from generation import runtime, services
from generation.adapters import publisher as publishing
from generation.adapters.publisher import ChannelLayerPublisher
from generation.adapters.store import DjangoJobStore
from generation.events import JobStatus, progress_event, user_group
from generation.manager.worker import ModelManager
from generation.metrics import EVENTS_FAILED
from generation.models import GenerationJob
from tests.doubles import RecordingPublisher
from tests.factories import queue_job
from tests.pipelines import PreloadedLoader
from wee_waa import asgi

FAILED = "wee_waa_generation_events_failed_total"


class Lifespan:
    """Drives ``wee_waa.asgi.application`` the way a lifespan-speaking server (uvicorn) does."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.task = asyncio.create_task(
            asgi.application({"type": "lifespan", "asgi": {"version": "3.0"}}, self.inbox.get, self.sent.put)
        )

    async def say(self, message_type: str) -> str:
        await self.inbox.put({"type": message_type})
        return str((await asyncio.wait_for(self.sent.get(), timeout=30))["type"])


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_lifespan_starts_the_runtime_on_the_servers_loop_and_stops_it_at_shutdown(
    tiny_loaded: Any, alice: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager = ModelManager(
        store=DjangoJobStore(), publisher=RecordingPublisher(), loader=PreloadedLoader(tiny_loaded), poll_seconds=0.05
    )
    process = runtime.Runtime(manager=manager)
    monkeypatch.setattr(runtime, "_current", process)
    server = Lifespan()

    assert await server.say("lifespan.startup") == "lifespan.startup.complete"
    assert manager.alive
    assert publishing.server_loop() is asyncio.get_running_loop()
    job = await sync_to_async(queue_job)(alice, steps=2)
    runtime.notify_new_job()
    for _ in range(300):
        if (await GenerationJob.objects.aget(id=job.id)).status == JobStatus.SUCCEEDED:
            break
        await asyncio.sleep(0.05)
    assert await server.say("lifespan.shutdown") == "lifespan.shutdown.complete"
    await server.task

    assert (await GenerationJob.objects.aget(id=job.id)).status == JobStatus.SUCCEEDED
    assert process.stopped and not manager.alive
    assert publishing.server_loop() is None


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_web_process_with_the_manager_off_starts_a_runtime_that_only_publishes(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.WEE_WAA_MANAGER = "off"
    monkeypatch.setattr(runtime, "_current", None)
    server = Lifespan()

    assert await server.say("lifespan.startup") == "lifespan.startup.complete"
    started = runtime.current()
    assert started.started and started.manager is None
    assert runtime.model_status().state == "external"
    assert await server.say("lifespan.shutdown") == "lifespan.shutdown.complete"
    assert started.stopped


@pytest.mark.django_db
def test_services_announce_through_the_process_runtimes_publisher(
    alice: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    layer = InMemoryChannelLayer()
    monkeypatch.setattr(runtime, "_current", runtime.Runtime(publisher=ChannelLayerPublisher(layer)))
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(user_group(alice.pk), channel)

    with django_capture_on_commit_callbacks(execute=True):
        job = services.job_create(owner=alice, prompt="a lighthouse", width=64, height=64, steps=2).job

    message = async_to_sync(layer.receive)(channel)
    assert (message["event"]["type"], message["event"]["job_id"]) == ("job.snapshot", job.id)


def failed_count() -> float:
    """This counter only: collecting the whole registry would also run the queue-depth
    collector's database query, refused on a thread with a running event loop."""
    samples = [sample for metric in EVENTS_FAILED.collect() for sample in metric.samples]
    return sum(s.value for s in samples if s.name == FAILED and s.labels == {"type": "job.progress"})


def test_a_failed_send_is_logged_and_counted_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    before = failed_count()
    publisher = ChannelLayerPublisher(InMemoryChannelLayer())

    with caplog.at_level(logging.ERROR):
        publisher.publish("no spaces allowed", progress_event(job_id="job_1", step=1, total=2, progress=0.5))

    assert failed_count() == before + 1
    assert "could not be sent" in caplog.text


def test_a_send_that_fails_on_the_server_loop_is_counted_when_it_settles() -> None:
    before = failed_count()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    publishing.bind_server_loop(loop)
    try:
        publisher = ChannelLayerPublisher(InMemoryChannelLayer())
        publisher.publish("no spaces allowed", progress_event(job_id="job_1", step=1, total=2, progress=0.5))
        publisher.flush()
    finally:
        publishing.bind_server_loop(None)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()

    assert failed_count() == before + 1
