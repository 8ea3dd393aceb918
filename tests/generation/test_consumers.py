"""The per-user websocket: session-authenticated, origin-checked, never leaks between users."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from generation.adapters.publisher import ChannelLayerPublisher
from generation.consumers import BURST, CLOSE_POLICY, MAX_FRAME_BYTES, TokenBucket
from generation.manager.worker import ModelManager
from generation.sockets import close_user_sockets
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


async def test_a_non_json_text_frame_gets_an_error_event_and_the_socket_stays_open(alice: Any) -> None:
    communicator, _ = await connect(alice)

    await communicator.send_to(text_data="this is not json {")
    error = await communicator.receive_json_from(timeout=5)
    await communicator.send_to(text_data='["a", "list"]')
    not_an_object = await communicator.receive_json_from(timeout=5)
    await communicator.send_to(bytes_data=b"\x00\x01binary")
    binary = await communicator.receive_json_from(timeout=5)
    await communicator.send_to(text_data='{"type": "nonsense"}')
    unknown = await communicator.receive_json_from(timeout=5)

    assert [error["code"], not_an_object["code"], binary["code"], unknown["code"]] == [
        "bad_frame",
        "bad_frame",
        "bad_frame",
        "unknown_type",
    ]
    assert all(event["type"] == "error" and event["detail"] for event in (error, binary, unknown))
    # Still open and still serving: a sync after the garbage is answered.
    job = await sync_to_async(queue_job)(alice)
    assert (await communicator.receive_json_from(timeout=5))["job_id"] == job.id
    await communicator.send_json_to({"type": "jobs.sync"})
    assert (await communicator.receive_json_from(timeout=5))["job_id"] == job.id
    await communicator.disconnect()


async def test_json_nested_very_deep_is_a_bad_frame_not_a_crash(alice: Any) -> None:
    communicator, _ = await connect(alice)

    await communicator.send_to(text_data="[" * 2000 + "]" * 2000)

    assert (await communicator.receive_json_from(timeout=5))["code"] == "bad_frame"
    await communicator.disconnect()


async def test_an_oversize_frame_closes_the_socket_as_too_big(alice: Any) -> None:
    communicator, _ = await connect(alice)

    await communicator.send_to(text_data=json.dumps({"type": "jobs.sync", "pad": "x" * (MAX_FRAME_BYTES + 1)}))

    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 1009}


async def test_sync_requests_beyond_the_rate_are_refused_then_a_flood_closes_the_socket(alice: Any) -> None:
    await sync_to_async(queue_job)(alice)
    communicator, _ = await connect(alice)
    await communicator.receive_json_from(timeout=5)  # the snapshot on connect

    for _ in range(40):
        await communicator.send_json_to({"type": "jobs.sync"})
    outputs = []
    while True:
        output = await communicator.receive_output(timeout=5)
        outputs.append(output)
        if output["type"] == "websocket.close":
            break

    answered = [json.loads(o["text"]) for o in outputs if o["type"] == "websocket.send"]
    snapshots = [event for event in answered if event["type"] == "job.snapshot"]
    assert len(snapshots) == BURST  # the burst is served, no more
    assert [event["code"] for event in answered if event["type"] == "error"] == ["rate_limited"]
    assert outputs[-1] == {"type": "websocket.close", "code": CLOSE_POLICY}


async def test_the_token_bucket_refills_at_its_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(burst=2, rate=1, clock=lambda: now[0])

    assert [bucket.take(), bucket.take(), bucket.take()] == ["ok", "ok", "refused"]
    now[0] += 1.0  # one token back, which pays the debt of the refused message
    assert bucket.take() == "refused"
    now[0] += 3.0  # refilled to the brim, never beyond
    assert [bucket.take(), bucket.take()] == ["ok", "ok"]
    assert [bucket.take(), bucket.take(), bucket.take()] == ["refused", "refused", "flood"]


async def test_closing_a_users_sockets_closes_only_theirs_with_4403(alice: Any, bob: Any) -> None:
    alice_ws, _ = await connect(alice)
    alice_tab2, _ = await connect(alice)
    bob_ws, _ = await connect(bob)

    await sync_to_async(close_user_sockets)(alice.pk)

    assert await alice_ws.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    assert await alice_tab2.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}
    assert await bob_ws.receive_nothing(timeout=0.3)
    await bob_ws.send_json_to({"type": "jobs.sync"})
    assert await bob_ws.receive_nothing(timeout=0.3)  # open and answering (no jobs: nothing to send)
    await bob_ws.disconnect()


async def test_closing_sockets_from_the_event_loop_itself_works_too(alice: Any) -> None:
    alice_ws, _ = await connect(alice)

    close_user_sockets(alice.pk)  # e.g. an async admin action calling the sync helper

    assert await alice_ws.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


async def test_an_inactive_user_is_refused_on_connect(alice: Any, settings: Any) -> None:
    # A backend that hands over inactive users must not let a banned account listen.
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.AllowAllUsersModelBackend"]
    alice.is_active = False
    await sync_to_async(alice.save)()

    communicator, connected = await connect(alice)

    assert connected is False
    await communicator.disconnect()
