"""The per-user websocket: session-authenticated, origin-checked, never leaks between users."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from generation.manager.publisher import ChannelLayerPublisher
from generation.manager.worker import ModelManager
from tests.factories import queue_job
from wee_waa.routing import websocket_application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


async def connect(user: Any | None, origin: bytes = b"http://localhost") -> tuple[WebsocketCommunicator, bool]:
    headers = [(b"origin", origin), (b"host", b"localhost")]
    if user is not None:
        client = Client()
        await sync_to_async(client.force_login)(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    communicator = WebsocketCommunicator(websocket_application(), "/ws/generation/", headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


async def receive_until_final(communicator: WebsocketCommunicator, job_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    while True:
        event = await communicator.receive_json_from(timeout=20)
        events.append(event)
        if event["type"] == "job.finished" and event["job_id"] == job_id:
            return events


async def test_anonymous_connections_are_refused(transactional_db: None) -> None:
    communicator, connected = await connect(None)
    assert connected is False
    await communicator.disconnect()


async def test_a_foreign_origin_is_refused(alice: Any) -> None:
    communicator, connected = await connect(alice, origin=b"http://evil.example")
    assert connected is False
    await communicator.disconnect()


async def test_each_user_receives_only_their_own_jobs_events_in_order(
    alice: Any, bob: Any, manager: ModelManager
) -> None:
    manager.publisher = ChannelLayerPublisher()
    alice_ws, alice_ok = await connect(alice)
    bob_ws, bob_ok = await connect(bob)
    assert alice_ok and bob_ok

    alice_job = await sync_to_async(queue_job)(alice, steps=3)
    bob_job = await sync_to_async(queue_job)(bob, steps=2)
    await sync_to_async(manager.run_until_idle, thread_sensitive=False)()

    alice_all = await receive_until_final(alice_ws, alice_job.id)
    bob_all = await receive_until_final(bob_ws, bob_job.id)
    # Places in line are sent too, and they list only the receiver's own jobs.
    alice_events = [event for event in alice_all if event["type"] != "job.queue"]
    bob_events = [event for event in bob_all if event["type"] != "job.queue"]
    for events, own in ((alice_all, alice_job.id), (bob_all, bob_job.id)):
        places = [place["job_id"] for event in events if event["type"] == "job.queue" for place in event["jobs"]]
        assert set(places) <= {own}

    assert {event["job_id"] for event in alice_events} == {alice_job.id}
    assert {event["job_id"] for event in bob_events} == {bob_job.id}
    assert [(event["type"], event.get("status"), event.get("step")) for event in alice_events] == [
        ("job.snapshot", "queued", 0),  # announced when created
        ("job.snapshot", "running", 0),  # claimed by the manager
        ("job.progress", None, 1),
        ("job.progress", None, 2),
        ("job.progress", None, 3),
        ("job.finished", "succeeded", None),
    ]
    assert alice_events[-1]["status"] == "succeeded"
    assert len(alice_events[-1]["images"]) == 1
    assert [event["step"] for event in bob_events if event["type"] == "job.progress"] == [1, 2]
    assert await alice_ws.receive_nothing(timeout=0.2)
    assert await bob_ws.receive_nothing(timeout=0.2)
    await alice_ws.disconnect()
    await bob_ws.disconnect()


async def test_on_connect_the_user_gets_the_state_of_their_unfinished_jobs(alice: Any, bob: Any) -> None:
    waiting = await sync_to_async(queue_job)(alice)
    await sync_to_async(queue_job)(bob)

    communicator, connected = await connect(alice)
    assert connected
    snapshot = await communicator.receive_json_from(timeout=5)

    assert snapshot["type"] == "job.snapshot"
    assert snapshot["job_id"] == waiting.id
    assert snapshot["status"] == "queued"
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.disconnect()


async def test_a_reconnecting_client_gets_the_running_jobs_true_state(alice: Any) -> None:
    from generation.events import JobStatus
    from generation.models import GenerationJob

    job = await sync_to_async(queue_job)(alice, steps=4)
    await GenerationJob.objects.filter(id=job.id).aupdate(status=JobStatus.RUNNING, progress=0.5)

    communicator, _ = await connect(alice)
    snapshot = await communicator.receive_json_from(timeout=5)
    await communicator.disconnect()
    again, _ = await connect(alice)
    resent = await again.receive_json_from(timeout=5)
    await again.send_json_to({"type": "jobs.sync"})
    asked = await again.receive_json_from(timeout=5)

    expected = {"job_id": job.id, "status": "running", "progress": 0.5, "step": 2, "total": 4}
    for message in (snapshot, resent, asked):
        assert {key: message[key] for key in expected} == expected
    await again.disconnect()


async def test_a_new_job_is_announced_to_the_owners_open_pages(alice: Any, bob: Any) -> None:
    alice_ws, _ = await connect(alice)
    bob_ws, _ = await connect(bob)

    job = await sync_to_async(queue_job)(alice)

    announced = await alice_ws.receive_json_from(timeout=5)
    assert (announced["type"], announced["job_id"], announced["status"]) == ("job.snapshot", job.id, "queued")
    assert await bob_ws.receive_nothing(timeout=0.2)
    await alice_ws.disconnect()
    await bob_ws.disconnect()
