"""Every websocket event is built by one builder, described by the generated JSON Schema, and
arrives through the real consumer exactly as built."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.test import Client
from jsonschema import Draft202012Validator

from generation import events, runtime, services
from generation.events import CHANNEL_MESSAGE_TYPE, EventType, JobEvent, JobStatus, user_group
from generation.manager.worker import ModelManager
from generation.models import GenerationJob
from generation.selectors import job_snapshot
from tests.doubles import RecordingPublisher
from tests.factories import queue_job
from tests.generation.test_consumers import connect

IMAGE: events.ImagePayload = {"id": "img_1", "url": "/media/backgrounds/1.png", "seed": 7}

# One built event per type a job's owner can be sent; the consumer's error has its own path.
BUILT: dict[EventType, Callable[[], JobEvent]] = {
    EventType.SNAPSHOT: lambda: events.snapshot_event(
        job_id="job_1", status=JobStatus.QUEUED, total=4, position=2, eta_seconds=3.5, cancel_requested=True
    ),
    EventType.PROGRESS: lambda: events.progress_event(job_id="job_1", step=2, total=4, progress=0.5),
    EventType.PREVIEW: lambda: events.preview_event(
        job_id="job_1", step=2, total=4, image="data:image/jpeg;base64,AAAA", width=64, height=64
    ),
    EventType.QUEUE: lambda: events.queue_event(jobs=[{"job_id": "job_1", "position": 1, "eta_seconds": None}]),
    EventType.FINISHED: lambda: events.finished_event(
        job_id="job_1", status=JobStatus.SUCCEEDED, images=[IMAGE], duration=1.23456
    ),
}


def validator(event_type: str) -> Draft202012Validator:
    return Draft202012Validator(events.event_schemas()[event_type])


def test_the_schema_describes_every_event_type_and_nothing_else() -> None:
    schemas = events.event_schemas()

    assert set(schemas) == {member.value for member in EventType}
    for name, schema in schemas.items():
        Draft202012Validator.check_schema(schema)
        assert schema["properties"]["type"] == {"enum": [name]}
    Draft202012Validator.check_schema(events.events_schema())


def test_every_event_a_job_can_send_has_a_builder() -> None:
    assert set(BUILT) == {member for member in EventType if member != EventType.ERROR}


def test_the_schema_is_served_as_generated(client: Client) -> None:
    response = client.get("/api/v1/events/schema.json")

    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(events.events_schema()))


def test_the_schema_refuses_a_snapshot_that_lost_a_field() -> None:
    snapshot = dict(BUILT[EventType.SNAPSHOT]())
    del snapshot["cancel_requested"]

    assert not validator("job.snapshot").is_valid(json.loads(json.dumps(snapshot)))


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("event_type", list(EventType))
async def test_each_event_type_arrives_through_the_real_consumer_as_built_and_valid(
    event_type: EventType, alice: Any
) -> None:
    communicator, connected = await connect(alice)
    assert connected
    if event_type == EventType.ERROR:
        await communicator.send_to(text_data="not json")
        expected = None
    else:
        built = BUILT[event_type]()
        expected = json.loads(json.dumps(built))
        await get_channel_layer().group_send(user_group(alice.pk), {"type": CHANNEL_MESSAGE_TYPE, "event": built})

    received = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()

    assert received["type"] == event_type.value
    validator(event_type.value).validate(received)
    if expected is not None:
        assert received == expected


@pytest.mark.django_db
def test_a_snapshot_of_a_job_tells_whether_its_cancel_was_asked(alice: Any) -> None:
    """The studio shows "stopping" from ``cancel_requested``; snapshots once never sent it."""
    job = queue_job(alice)
    GenerationJob.objects.filter(id=job.id).update(status=JobStatus.RUNNING, cancel_requested=True)
    job.refresh_from_db()

    snapshot = job_snapshot(job)

    assert snapshot["cancel_requested"] is True
    validator("job.snapshot").validate(json.loads(json.dumps(snapshot)))


@pytest.mark.django_db
def test_what_the_manager_and_services_send_matches_the_schema(
    manager: ModelManager,
    publisher: RecordingPublisher,
    alice: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime, "_current", runtime.Runtime(publisher=publisher, manager=manager))
    manager.preview_every = 1
    with django_capture_on_commit_callbacks(execute=True):
        services.job_create(owner=alice, prompt="a lighthouse", steps=3, width=64, height=64)  # >2: previews
        cancelled = services.job_create(owner=alice, prompt="never drawn", steps=2, width=64, height=64).job
        services.job_cancel(job=cancelled)
    manager.run_until_idle()

    sent = [json.loads(json.dumps(event)) for _, event in publisher.events]
    assert {event["type"] for event in sent} == {member.value for member in EventType} - {"error"}
    for event in sent:
        validator(event["type"]).validate(event)
