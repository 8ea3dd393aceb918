"""deploy/nginx, tested with a real nginx in front of a real daphne.

Debian's nginx runs the configuration rendered from the deploy templates (tests/integration/
nginx.py), with TLS on a throwaway certificate, in front of ``manage.py serve`` with
``WEE_WAA_BEHIND_PROXY=true`` and ``WEE_WAA_MEDIA_ACCEL_PREFIX=/protected-media/``, the
values compose.yaml gives the web service.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import secrets
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.integration import nginx as nginx_helper
from tests.integration.nginx import Nginx
from tests.live_server import ROOT, Client, Server, running_server

pytestmark = pytest.mark.integration

ACCEL_PREFIX = "/protected-media/"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    nginx_helper.nginx_binary()  # skip before starting a server when nginx is missing
    env = {"WEE_WAA_BEHIND_PROXY": "true", "WEE_WAA_MEDIA_ACCEL_PREFIX": ACCEL_PREFIX}
    with running_server(extra_env=env, data=tmp_path_factory.mktemp("nginx-server")) as server:
        server.manage("collectstatic", "--noinput", "--verbosity", "0")  # what deploy/Dockerfile does
        yield server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return nginx_helper.self_signed_certificate(tmp_path_factory.mktemp("certs"))


def configure(server: Server, prefix: Path, **options: Any) -> Nginx:
    return nginx_helper.configure(
        prefix,
        upstream=server.url.removeprefix("http://"),
        static_root=server.data_dir / "static",
        media_root=server.data_dir / "media",
        **options,
    )


@pytest.fixture(scope="module")
def proxy(server: Server, certificate: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """HTTP and HTTPS in front of the server, shared by the tests that do not exhaust a rate limit."""
    with nginx_helper.running(configure(server, tmp_path_factory.mktemp("nginx"), tls=certificate)) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def tls_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def get(
    url: str, headers: dict[str, str] | None = None, *, context: ssl.SSLContext | None = None, data: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body, for errors too; redirects are not followed."""

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirects(), urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(url, headers=headers or {}, data=data)  # noqa: S310 - http(s) only
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


async def follow_job(client: Client) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Opens the socket through nginx, queues a job through nginx, reads events to the end."""
    async with websockets.connect(client.websocket_url, additional_headers=client.websocket_headers()) as ws:
        job = await asyncio.to_thread(
            client.create_job, {"prompt": "a street through nginx", "count": 1, "width": 64, "height": 64, "steps": 2}
        )
        events: list[dict[str, Any]] = []
        async with asyncio.timeout(120):
            while not (events and events[-1]["type"] == "job.finished"):
                event = json.loads(await ws.recv())
                if event.get("job_id") == job["id"]:
                    events.append(event)
    return job, events


@pytest.fixture(scope="module")
def drawn(proxy: Nginx) -> tuple[Client, dict[str, Any], list[dict[str, Any]]]:
    """A user who signed up, drew a job and watched it over the websocket, all through nginx."""
    client = Client(proxy.url)
    client.sign_up()
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # a loop of its own (see test_redis_websockets)
        job, events = pool.submit(asyncio.run, follow_job(client)).result()
    return client, client.api("GET", f"/api/v1/jobs/{job['id']}/"), events


def test_nginx_accepts_the_rendered_configuration_with_and_without_tls(
    server: Server, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    plain = nginx_helper.check_config(configure(server, tmp_path / "plain"))
    tls = nginx_helper.check_config(configure(server, tmp_path / "tls", tls=certificate, https_redirect=True))

    assert plain.returncode == 0, plain.stderr
    assert tls.returncode == 0, tls.stderr
    assert "test is successful" in tls.stderr


def test_pages_come_through_nginx_without_its_version(proxy: Nginx) -> None:
    status, headers, body = get(f"{proxy.url}/accounts/login/")

    assert status == 200
    assert b'name="password"' in body
    assert headers["Server"] == "nginx"  # server_tokens off
    assert "csrftoken" in headers.get("Set-Cookie", "")


def test_a_job_is_created_through_the_api_and_followed_to_the_end_over_the_websocket(
    drawn: tuple[Client, dict[str, Any], list[dict[str, Any]]],
) -> None:
    _, job, events = drawn

    assert events[0]["type"] == "job.snapshot"
    assert any(event["type"] == "job.progress" for event in events)
    assert (events[-1]["type"], events[-1]["status"]) == ("job.finished", "succeeded")
    assert job["status"] == "succeeded" and len(job["images"]) == 1


def test_the_owner_gets_the_picture_bytes_from_nginx_through_x_accel_redirect(
    server: Server, drawn: tuple[Client, dict[str, Any], list[dict[str, Any]]]
) -> None:
    client, job, _ = drawn
    url = job["images"][0]["url"]
    name = urllib.parse.unquote(url.removeprefix("/media/"))

    status, headers, body = get(f"{client.base}{url}", {"Cookie": f"sessionid={client.cookie('sessionid')}"})

    assert status == 200
    assert body == (server.data_dir / "media" / name).read_bytes()
    assert body.startswith(b"\x89PNG")
    assert headers["Content-Type"] == "image/png"
    assert "X-Accel-Redirect" not in headers  # nginx consumed it
    assert headers["Cache-Control"] == "private, no-store"  # the app's rule survives the redirect


def test_a_picture_the_viewer_may_not_see_is_404_and_the_internal_location_is_closed(
    drawn: tuple[Client, dict[str, Any], list[dict[str, Any]]],
) -> None:
    client, job, _ = drawn
    url = job["images"][0]["url"]
    stranger = Client(client.base)
    stranger.sign_up()

    anonymous = get(f"{client.base}{url}")
    other_user = get(f"{client.base}{url}", {"Cookie": f"sessionid={stranger.cookie('sessionid')}"})
    direct = get(f"{client.base}{ACCEL_PREFIX}{url.removeprefix('/media/')}")

    assert anonymous[0] == other_user[0] == 404
    assert b"\x89PNG" not in anonymous[2] + other_user[2]
    assert direct[0] == 404 and b"\x89PNG" not in direct[2]


def test_static_files_are_served_by_nginx_from_the_collected_folder(server: Server, proxy: Nginx) -> None:
    # Written after the server started: WhiteNoise never saw it, so only nginx can answer it.
    only_nginx = f"nginx-only-{secrets.token_hex(4)}.txt"
    (server.data_dir / "static" / only_nginx).write_text("served by nginx")

    collected = get(f"{proxy.url}/static/css/app.css")
    through_nginx = get(f"{proxy.url}/static/{only_nginx}")
    straight_to_daphne = get(f"{server.url}/static/{only_nginx}")

    assert collected[0] == 200
    assert collected[2] == (ROOT / "static" / "css" / "app.css").read_bytes()
    assert collected[1]["Cache-Control"] == "public, max-age=3600"
    assert collected[1]["Content-Type"].startswith("text/css")
    assert (through_nginx[0], through_nginx[2]) == (200, b"served by nginx")
    assert straight_to_daphne[0] == 404


def connect_src(headers: dict[str, str]) -> str:
    policy = headers["Content-Security-Policy"]
    return next(part for part in policy.split(";") if part.strip().startswith("connect-src"))


def test_the_app_believes_nginx_about_https_and_not_the_client(
    proxy: Nginx, drawn: tuple[Client, dict[str, Any], list[dict[str, Any]]], tls_context: ssl.SSLContext
) -> None:
    client, job, _ = drawn
    client.api("POST", f"/api/v1/jobs/{job['id']}/keep/", {"image": job["images"][0]["id"]})
    creation = client.api(
        "POST",
        "/api/v1/creations/",
        {"background": job["images"][0]["id"], "layers": [], "title": "proxied", "visibility": "public"},
    )
    assert proxy.https_url is not None
    tls_port = proxy.https_url.rsplit(":", 1)[-1]

    spoofed = get(f"{proxy.url}/c/{creation['id']}/", {"X-Forwarded-Proto": "https"})
    secure = get(f"{proxy.https_url}/c/{creation['id']}/", context=tls_context)

    # Plain HTTP: nginx overwrote the client's X-Forwarded-Proto, so the page is not secure.
    assert spoofed[0] == 200
    assert "ws://127.0.0.1:" in connect_src(spoofed[1]) and "wss://" not in connect_src(spoofed[1])
    assert re.search(rb'og:image" content="http://127\.0\.0\.1:\d+/media/', spoofed[2])
    # TLS: X-Forwarded-Proto https from nginx, so request.is_secure() (WEE_WAA_BEHIND_PROXY).
    assert secure[0] == 200
    assert f"wss://127.0.0.1:{tls_port}" in connect_src(secure[1])
    assert re.search(rf'og:image" content="https://127\.0\.0\.1:{tls_port}/media/'.encode(), secure[2])
    picture = get(f"{proxy.https_url}/media/{creation['image'].rsplit('/media/', 1)[-1]}", context=tls_context)
    assert picture[0] == 200 and picture[2].startswith(b"\x89PNG")


def test_metrics_are_not_served_to_the_internet(proxy: Nginx) -> None:
    assert get(f"{proxy.url}/metrics")[0] == 404


def test_a_body_over_the_limit_is_refused_by_nginx(proxy: Nginx) -> None:
    status, _, _ = get(f"{proxy.url}/api/v1/jobs/", data=b"x" * (13 * 1024 * 1024))

    assert status == 413


def test_plain_http_redirects_to_https_when_asked(
    server: Server, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    with nginx_helper.running(configure(server, tmp_path, tls=certificate, https_redirect=True)) as proxy:
        status, headers, _ = get(f"{proxy.url}/studio/?x=1")
        health = get(f"{proxy.url}/healthz")  # the container's health check probes plain HTTP

    assert status == 301
    assert headers["Location"] == "https://127.0.0.1/studio/?x=1"
    assert health[0] == 200 and b'"database": "ok"' in health[2]


def test_hammering_the_login_form_gets_429_from_nginx_in_the_visitors_language(server: Server, tmp_path: Path) -> None:
    with nginx_helper.running(configure(server, tmp_path)) as proxy:
        login = f"{proxy.url}/accounts/login/"
        form = urllib.parse.urlencode({"username": "nobody", "password": "guess"}).encode()
        answers = [get(login, data=form) for _ in range(25)]
        korean = get(login, {"Accept-Language": "ko-KR,ko;q=0.9"}, data=form)
        form_page = get(login)  # reading the form is not limited, only posting it

    statuses = [status for status, _, _ in answers]
    assert 429 not in statuses[:10]  # the burst reaches the app (its CSRF check answers 403)
    assert statuses[-5:] == [429] * 5
    refused = next(answer for answer in answers if answer[0] == 429)
    assert refused[1]["Retry-After"] == "60"
    assert refused[2].decode() == "Too many requests. Please wait a minute and try again.\n"
    assert korean[0] == 429 and "요청이 너무 많습니다" in korean[2].decode()
    assert form_page[0] == 200


def test_hammering_the_api_gets_json_429s_from_nginx(server: Server, tmp_path: Path) -> None:
    with nginx_helper.running(configure(server, tmp_path)) as proxy, concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: get(f"{proxy.url}/api/v1/jobs/"), range(120)))

    statuses = [status for status, _, _ in answers]
    assert statuses.count(403) >= 40  # the burst reaches the app (anonymous: 403)
    refused = [answer for answer in answers if answer[0] == 429]
    assert refused, statuses
    assert refused[0][1]["Content-Type"].startswith("application/json")
    assert json.loads(refused[0][2]) == {"detail": "Too many requests. Please wait a minute and try again."}
