"""Programs on the live socket with a personal token: in the handshake's Authorization header,
or in a first auth message (programs only); never in the query string."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from accounts import ws_auth
from accounts.models import User
from accounts.tokens import token_create, token_revoke
from tests.factories import queue_job
from wee_waa.routing import websocket_application

pytestmark = [pytest.mark.asyncio, pytest.mark.django_db(transaction=True)]


def socket(*headers: tuple[bytes, bytes], path: str = "/ws/generation/") -> WebsocketCommunicator:
    return WebsocketCommunicator(websocket_application(), path, headers=[(b"host", b"localhost"), *headers])


def bearer(raw: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {raw}".encode())


async def new_token(user: User, name: str = "script") -> tuple[Any, str]:
    return await sync_to_async(token_create)(user=user, name=name)


async def test_a_bearer_header_opens_the_owners_stream(alice: User, bob: User) -> None:
    job = await sync_to_async(queue_job)(alice)
    await sync_to_async(queue_job)(bob)
    _, raw = await new_token(alice)
    communicator = socket(bearer(raw))

    connected, _ = await communicator.connect()
    snapshot = await communicator.receive_json_from(timeout=5)

    assert connected
    assert (snapshot["type"], snapshot["job_id"]) == ("job.snapshot", job.id)
    assert await communicator.receive_nothing(timeout=0.2)  # not bob's
    await communicator.disconnect()


async def test_a_bearer_header_works_with_our_own_origin_too(alice: User) -> None:
    _, raw = await new_token(alice)
    communicator = socket(bearer(raw), (b"origin", b"http://localhost"))

    connected, _ = await communicator.connect()

    assert connected
    await communicator.disconnect()


@pytest.mark.parametrize("header", [b"Bearer wwt_" + b"Z" * 40, b"Bearer", b"Basic YWxpY2U6cHc="])
async def test_a_bad_authorization_header_is_refused_at_once(alice: User, header: bytes) -> None:
    communicator = socket((b"authorization", header))

    assert await communicator.connect() == (False, 4401)
    await communicator.disconnect()


async def test_a_revoked_token_is_refused_in_the_header(alice: User) -> None:
    token, raw = await new_token(alice)
    await sync_to_async(token_revoke)(token=token)
    communicator = socket(bearer(raw))

    assert await communicator.connect() == (False, 4401)
    await communicator.disconnect()


async def test_a_first_auth_message_opens_the_stream_for_a_program(alice: User) -> None:
    job = await sync_to_async(queue_job)(alice)
    _, raw = await new_token(alice)
    communicator = socket()

    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_nothing(timeout=0.1)  # nothing before it signs in
    await communicator.send_json_to({"type": "auth", "token": raw})
    snapshot = await communicator.receive_json_from(timeout=5)
    await communicator.send_json_to({"type": "jobs.sync"})
    again = await communicator.receive_json_from(timeout=5)

    assert snapshot["job_id"] == again["job_id"] == job.id
    await communicator.disconnect()


@pytest.mark.parametrize(
    "message",
    [
        {"type": "auth", "token": "wwt_" + "Q" * 40},
        {"type": "jobs.sync"},
        {"type": "auth"},
        {"type": "auth", "token": ["not", "text"]},
    ],
)
async def test_a_first_message_that_is_not_a_valid_auth_closes_the_socket(alice: User, message: Any) -> None:
    communicator = socket()
    await communicator.connect()

    await communicator.send_json_to(message)

    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_without_an_auth_message_in_time_the_socket_is_closed(
    alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_auth, "AUTH_MESSAGE_SECONDS", 0.2)
    communicator = socket()

    connected, _ = await communicator.connect()

    assert connected
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()


async def test_a_token_in_the_query_string_is_refused(alice: User) -> None:
    _, raw = await new_token(alice)

    for name in ("token", "access_token"):
        communicator = socket(path=f"/ws/generation/?{name}={raw}")
        assert await communicator.connect() == (False, 4401)
        await communicator.disconnect()


async def test_a_browser_without_a_session_is_still_refused_at_once(db: None) -> None:
    communicator = socket((b"origin", b"http://localhost"))

    assert await communicator.connect() == (False, 4401)
    await communicator.disconnect()


async def test_revoking_a_token_closes_its_sockets_but_not_the_owners_session(alice: User) -> None:
    token, raw = await new_token(alice)
    _, other_raw = await new_token(alice, "other")
    by_header = socket(bearer(raw))
    by_message = socket()
    by_other = socket(bearer(other_raw))
    client = Client()
    await sync_to_async(client.force_login)(alice)
    session = socket(
        (b"origin", b"http://localhost"), (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())
    )
    for communicator in (by_header, by_message, by_other, session):
        assert (await communicator.connect())[0]
    await by_message.send_json_to({"type": "auth", "token": raw})
    assert await by_message.receive_nothing(timeout=0.2)  # signed in (no jobs: nothing to say)

    await sync_to_async(token_revoke)(token=token)

    assert await by_header.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    assert await by_message.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    for still_open in (by_other, session):
        await sync_to_async(queue_job)(alice)
        assert (await still_open.receive_json_from(timeout=5))["type"] == "job.snapshot"
    for communicator in (by_header, by_message, by_other, session):
        await communicator.disconnect()
