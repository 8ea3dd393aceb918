"""The websocket origin check compares the whole origin: scheme, host and port."""

from __future__ import annotations

from typing import Any

import pytest

from tests.generation.test_consumers import connect
from wee_waa.origin import origin_allowed, parse_origin


def scope(origin: str | None, host: str = "localhost:8000", scheme: str = "ws", **headers: str) -> dict[str, Any]:
    pairs = [(b"host", host.encode())] + [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    if origin is not None:
        pairs.append((b"origin", origin.encode()))
    return {"type": "websocket", "scheme": scheme, "headers": pairs}


def test_the_pages_own_origin_is_allowed() -> None:
    assert origin_allowed(scope("http://localhost:8000"))
    assert origin_allowed(scope("http://LOCALHOST:8000"))  # host names are case-insensitive
    assert origin_allowed(scope("https://localhost", host="localhost", scheme="wss"))
    assert origin_allowed(scope("https://localhost:443", host="localhost", scheme="wss"))  # default port
    assert origin_allowed(scope("http://[::1]:8000", host="[::1]:8000"))


def test_another_port_on_the_same_host_is_refused() -> None:
    # Channels' AllowedHostsOriginValidator accepted this one: it compares host names only.
    assert not origin_allowed(scope("http://localhost:9999"))
    assert not origin_allowed(scope("http://localhost", host="localhost:8000"))


def test_another_scheme_is_refused() -> None:
    assert not origin_allowed(scope("https://localhost:8000"))  # page over https, socket over ws
    assert not origin_allowed(scope("http://localhost", host="localhost", scheme="wss"))
    assert not origin_allowed(scope("ftp://localhost:8000"))


def test_odd_or_foreign_origins_are_refused() -> None:
    for origin in ("null", "", "http://evil.example", "http://localhost:8000/path", "http://user@localhost:8000"):
        assert not origin_allowed(scope(origin)), origin
    assert not origin_allowed(scope("http://localhost:notaport"))


def test_a_host_outside_allowed_hosts_gives_no_own_origin(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["studio.example"]

    assert not origin_allowed(scope("http://evil.example", host="evil.example"))
    assert origin_allowed(scope("http://studio.example", host="studio.example"))


def test_behind_a_proxy_the_forwarded_scheme_counts_only_when_trusted(settings: Any) -> None:
    forwarded = {"x_forwarded_proto": "https"}
    settings.SECURE_PROXY_SSL_HEADER = None
    assert not origin_allowed(scope("https://localhost", host="localhost", **forwarded))

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert origin_allowed(scope("https://localhost", host="localhost", **forwarded))
    assert not origin_allowed(scope("http://localhost", host="localhost", **forwarded))


def test_csrf_trusted_origins_are_allowed_with_their_port_and_scheme(settings: Any) -> None:
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example", "https://*.studio.example"]

    assert origin_allowed(scope("https://app.example"))
    assert origin_allowed(scope("https://eu.studio.example"))
    assert not origin_allowed(scope("http://app.example"))
    assert not origin_allowed(scope("https://app.example:8443"))
    assert not origin_allowed(scope("https://studio.example.evil.example"))


def test_no_origin_header_passes_the_origin_check() -> None:
    """Browsers always send Origin on a websocket handshake: none means a script, which cannot
    ride on a victim's cookies. The consumer still demands a valid session."""
    assert origin_allowed(scope(None))


def test_parse_origin_normalises_default_ports() -> None:
    assert parse_origin("HTTPS://Example.COM") == ("https", "example.com", 443)
    assert parse_origin("http://example.com:8080/") == ("http", "example.com", 8080)


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_from_another_port_is_refused_end_to_end(alice: Any) -> None:
    same, same_ok = await connect(alice, origin=b"http://localhost")
    other, other_ok = await connect(alice, origin=b"http://localhost:9999")

    assert same_ok is True
    assert other_ok is False
    await same.disconnect()
    await other.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_without_origin_a_program_must_sign_in_or_is_closed(transactional_db: None, monkeypatch: Any) -> None:
    from channels.testing import WebsocketCommunicator

    from accounts import ws_auth
    from wee_waa.routing import websocket_application

    monkeypatch.setattr(ws_auth, "AUTH_MESSAGE_SECONDS", 0.2)
    communicator = WebsocketCommunicator(websocket_application(), "/ws/generation/", headers=[(b"host", b"localhost")])
    connected, _ = await communicator.connect()

    assert connected  # a program may still send {"type": "auth", "token": ...}
    assert await communicator.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
    await communicator.disconnect()
