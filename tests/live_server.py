"""A real server process and a signed-up browser-like client: for the tests that need a live
server, and for the benchmarks in ``bench/``."""

from __future__ import annotations

import http.cookiejar
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# /healthz shows the model and workers only with this token (or to staff): servers started
# here get it, and both health() helpers send it.
HEALTH_TOKEN = secrets.token_urlsafe(24)
HEALTH_HEADERS = {"Authorization": f"Bearer {HEALTH_TOKEN}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    env: dict[str, str]

    def manage(self, *args: str) -> str:
        """A management command against this server's database (e.g. to make a staff account)."""
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def health(self) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.url}/healthz", headers=HEALTH_HEADERS)
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.load(response))


def start_server(
    data: Path, model: str = "tiny", extra_env: dict[str, str] | None = None, *, wait_for_model: bool = True
) -> Server:
    """``manage.py serve`` exactly as the README runs it, on a free port and the given data
    folder; returns once the model is loaded.

    ``wait_for_model=False`` returns as soon as ``/healthz`` says the database answers: a web
    server with ``WEE_WAA_MANAGER=off`` has no model of its own, a ``generation_worker`` draws."""
    port = free_port()
    env = {
        **os.environ,
        "WEE_WAA_MODEL": model,
        "WEE_WAA_DATA_DIR": str(data),
        "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
        "REDIS_URL": "",
        "WEE_WAA_MANAGER": "inprocess",
        "WEE_WAA_LOG_LEVEL": "WARNING",
        # Benches and browser tests sign up many users, all from 127.0.0.1.
        "WEE_WAA_SIGNUPS_PER_HOUR": "100000",
        "WEE_WAA_HEALTH_TOKEN": HEALTH_TOKEN,
        **(extra_env or {}),
    }
    log = (data / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    log.close()  # the child keeps its own copy
    server = Server(url=f"http://127.0.0.1:{port}", process=process, data_dir=data, env=env)
    deadline = time.monotonic() + 300
    while True:
        try:
            health = server.health()
            if health["model"]["loaded"] or (not wait_for_model and health["status"] == "ok"):
                return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError((data / "server.log").read_text()[-3000:])
        time.sleep(0.2)


@contextmanager
def running_server(
    model: str = "tiny",
    extra_env: dict[str, str] | None = None,
    data: Path | None = None,
    *,
    wait_for_model: bool = True,
) -> Iterator[Server]:
    with tempfile.TemporaryDirectory(prefix="wee-waa-server-") as scratch:
        server = start_server(data or Path(scratch), model, extra_env, wait_for_model=wait_for_model)
        try:
            yield server
        finally:
            if server.process.poll() is None:
                server.process.terminate()
                try:
                    server.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    # Prompt shutdown has its own test (tests/test_serve.py); here a slow stop
                    # must not fail whichever test happened to run last.
                    server.process.kill()
                    server.process.wait(timeout=30)


class Client:
    """A signed-up user speaking to the server the way the studio page does."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.username = f"bench{secrets.token_hex(4)}"

    def cookie(self, name: str) -> str:
        return next(c.value or "" for c in self.jar if c.name == name)

    def sign_up(self) -> None:
        self.opener.open(f"{self.base}/accounts/signup/").read()
        form = {
            "csrfmiddlewaretoken": self.cookie("csrftoken"),
            "username": self.username,
            "password1": "bench password 123",
            "password2": "bench password 123",
        }
        request = urllib.request.Request(
            f"{self.base}/accounts/signup/",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Referer": f"{self.base}/accounts/signup/"},
        )
        self.opener.open(request).read()
        self.cookie("sessionid")  # raises StopIteration if sign-up failed

    def create_job(self, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.base}/api/v1/jobs/",
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken")},
        )
        with self.opener.open(request) as response:
            return dict(json.load(response))

    def api(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.base}{path}",
            method=method,
            data=json.dumps(payload).encode() if payload is not None else None,
            headers={"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken")},
        )
        with self.opener.open(request) as response:
            return dict(json.load(response))

    def publish_picture(self, title: str, *, timeout: float = 180.0) -> str:
        """Draw the smallest background, keep it and share a public creation of it: what a
        visitor finds in Explore. Returns the creation's id."""
        job = self.create_job({"prompt": title, "count": 1, "width": 64, "height": 64, "steps": 1})
        deadline = time.monotonic() + timeout
        while job["status"] != "succeeded":
            assert job["status"] in {"queued", "running"} and time.monotonic() < deadline, job
            time.sleep(0.2)
            job = self.api("GET", f"/api/v1/jobs/{job['id']}/")
        image = job["images"][0]["id"]
        self.api("POST", f"/api/v1/jobs/{job['id']}/keep/", {"image": image})
        creation = self.api(
            "POST", "/api/v1/creations/", {"background": image, "layers": [], "title": title, "visibility": "public"}
        )
        return str(creation["id"])

    def health(self) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.base}/healthz", headers=HEALTH_HEADERS)
        with urllib.request.urlopen(request, timeout=5) as response:
            return dict(json.load(response))

    def websocket_headers(self) -> dict[str, str]:
        return {"Cookie": f"sessionid={self.cookie('sessionid')}", "Origin": self.base}

    @property
    def websocket_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/ws/generation/"
