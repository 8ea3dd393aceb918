"""Websocket soak: many studio tabs on one real server over the Redis channel layer.

    python -m bench.ws_soak [--clients 500] [--tabs 5] [--seconds 60] [--job-every 0.5]
                            [--redis-url redis://127.0.0.1:6379/13] [--out bench/results/ws_soak.json]

One real ``manage.py serve`` (daphne, in-process manager, tiny model, previews off) with
``REDIS_URL`` set, so every event crosses Redis. ``--clients`` websockets (``--tabs`` per
user, so ``clients / tabs`` users) connect at once and stay open for ``--seconds`` while jobs
are submitted through the API at a steady pace by random users. Then submissions stop, the
queue drains, and the figures are:

- connected: handshakes that succeeded; dropped: sockets the server closed (any code) before
  the bench closed them;
- messages lost: for each tab and each job of its user, the events that tab must see
  (snapshot queued, snapshot running, one progress per step, finished) minus the ones it
  saw; "sent" is the sum of those expectations (``job.queue`` updates are counted, not checked);
- server RSS (MiB) at start (idle), once all are connected, at peak and at the end.

Users and their sessions are made by a Django script on the server's own database (signing
up 100 users through the form would cost ~0.8 s of password hashing each, and the sign-up
throttle would stop them). The Redis database given is emptied before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import redis
import websockets

from tests.live_server import ROOT, Server, running_server

MAKE_SESSIONS = """
import json, sys
import django
django.setup()
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from accounts.models import User
out = []
for n in range(int(sys.argv[1])):
    user = User(username=f"soak{n}", email=f"soak{n}@example.com")
    user.set_unusable_password()
    user.save()
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    out.append([user.pk, session.session_key])
print(json.dumps(out))
"""


class Tab:
    """One studio tab: a websocket that records every event of its user's jobs."""

    def __init__(self, server: Server, user_id: int, session: str) -> None:
        self.server = server
        self.user_id = user_id
        self.session = session
        self.seen: dict[str, set[str]] = defaultdict(set)
        self.queue_updates = 0
        self.connected = False
        self.dropped: int | None = None  # the close code, when the server closed it
        self.error = ""
        self.closing = False

    async def run(self, ready: asyncio.Event, stop: asyncio.Event) -> None:
        url = self.server.url.replace("http://", "ws://") + "/ws/generation/"
        headers = {"Cookie": f"sessionid={self.session}", "Origin": self.server.url}
        try:
            async with websockets.connect(url, additional_headers=headers, open_timeout=120, max_size=2**22) as ws:
                self.connected = True
                ready.set()
                reader = asyncio.create_task(self._read(ws))
                await stop.wait()
                self.closing = True
                reader.cancel()
        except (OSError, TimeoutError, websockets.WebSocketException) as exc:
            self.error = repr(exc)
            ready.set()

    async def _read(self, ws: Any) -> None:
        try:
            async for raw in ws:
                event = json.loads(raw)
                kind = event.get("type")
                if kind == "job.queue":
                    self.queue_updates += 1
                elif kind == "job.snapshot":
                    self.seen[event["job_id"]].add(f"snapshot:{event['status']}")
                elif kind == "job.progress":
                    self.seen[event["job_id"]].add(f"progress:{event['step']}")
                elif kind == "job.finished":
                    self.seen[event["job_id"]].add("finished")
        except websockets.ConnectionClosed as closed:
            if not self.closing:
                self.dropped = closed.rcvd.code if closed.rcvd else 1006


class RssSampler(threading.Thread):
    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.server = server
        self.peak = 0.0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.server.rss_mib())
            time.sleep(0.25)


def submit_job(server: Server, session: str, steps: int, size: int) -> dict[str, Any]:
    csrf = secrets.token_hex(16)  # any well-formed secret: cookie and header must match
    body = {"prompt": "soak", "width": size, "height": size, "steps": steps, "count": 1}
    request = urllib.request.Request(
        f"{server.url}/api/v1/jobs/",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Cookie": f"sessionid={session}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
        },
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return dict(json.load(response))


def make_sessions(server: Server, users: int) -> list[tuple[int, str]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wee_waa.settings",
        "WEE_WAA_DATA_DIR": str(server.data_dir),
        "DATABASE_URL": f"sqlite:///{server.data_dir / 'db.sqlite3'}",
        "REDIS_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", MAKE_SESSIONS, str(users)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return [(int(pk), str(key)) for pk, key in json.loads(result.stdout.strip().splitlines()[-1])]


async def soak(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    users = max(1, args.clients // args.tabs)
    sessions = await asyncio.to_thread(make_sessions, server, users)
    tabs = [Tab(server, *sessions[n % users]) for n in range(args.clients)]
    rss: dict[str, float] = {"start": server.rss_mib()}
    sampler = RssSampler(server)
    sampler.start()

    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in tabs]
    started = time.monotonic()
    runners = [asyncio.create_task(tab.run(ready, stop)) for tab, ready in zip(tabs, readies, strict=True)]
    await asyncio.gather(*(ready.wait() for ready in readies))
    connect_seconds = time.monotonic() - started
    rss["connected"] = server.rss_mib()
    print(f"{sum(t.connected for t in tabs)}/{len(tabs)} connected in {connect_seconds:.1f} s", flush=True)

    jobs: dict[str, int] = {}  # job id -> owner
    submit_errors: Counter[str] = Counter()
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        user_id, session = random.choice(sessions)
        try:
            job = await asyncio.to_thread(submit_job, server, session, args.steps, args.size)
            jobs[str(job["id"])] = user_id
        except OSError as exc:
            submit_errors[repr(exc)[:120]] += 1
        await asyncio.sleep(args.job_every)
    rss["end_of_soak"] = server.rss_mib()

    # Drain: every job finished, as seen by at least one tab of its owner.
    drain_deadline = time.monotonic() + args.drain
    by_owner: dict[int, list[Tab]] = defaultdict(list)
    for tab in tabs:
        by_owner[tab.user_id].append(tab)

    def finished(job_id: str) -> bool:
        return any("finished" in tab.seen.get(job_id, ()) for tab in by_owner[jobs[job_id]])

    while time.monotonic() < drain_deadline and not all(finished(job_id) for job_id in jobs):
        await asyncio.sleep(0.5)
    await asyncio.sleep(2)  # stragglers to the other tabs
    rss["end"] = server.rss_mib()
    stop.set()
    await asyncio.gather(*runners)
    sampler.running = False
    rss["peak"] = max(sampler.peak, *rss.values())

    expected_per_job = {"snapshot:queued", "snapshot:running", "finished"} | {
        f"progress:{step}" for step in range(1, args.steps + 1)
    }
    sent = lost = 0
    lost_by_kind: Counter[str] = Counter()
    for job_id, owner in jobs.items():
        for tab in by_owner[owner]:
            if not tab.connected:
                continue
            missing = expected_per_job - tab.seen.get(job_id, set())
            sent += len(expected_per_job)
            lost += len(missing)
            lost_by_kind.update(kind if kind.startswith("snapshot") else kind.split(":")[0] for kind in missing)
    return {
        "clients": args.clients,
        "users": users,
        "seconds": args.seconds,
        "connected": sum(tab.connected for tab in tabs),
        "connect_seconds": round(connect_seconds, 2),
        "connect_errors": Counter(tab.error[:120] for tab in tabs if tab.error),
        "dropped": sum(tab.dropped is not None for tab in tabs),
        "drop_codes": Counter(str(tab.dropped) for tab in tabs if tab.dropped is not None),
        "jobs_submitted": len(jobs),
        "jobs_finished_seen": sum(finished(job_id) for job_id in jobs),
        "submit_errors": submit_errors,
        "events_expected": sent,
        "events_lost": lost,
        "lost_by_kind": lost_by_kind,
        "queue_updates_received": sum(tab.queue_updates for tab in tabs),
        "server_rss_mib": {key: round(value, 1) for key, value in rss.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--tabs", type=int, default=5, help="websockets per user")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--job-every", type=float, default=0.5, help="seconds between job submissions")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the queue to empty")
    parser.add_argument("--redis-url", default=os.environ.get("WEE_WAA_SOAK_REDIS_URL", "redis://127.0.0.1:6379/13"))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "ws_soak.json")
    args = parser.parse_args()

    scratch = redis.Redis.from_url(args.redis_url)
    scratch.flushdb()
    env = {
        "REDIS_URL": args.redis_url,
        "WEE_WAA_PREVIEW_EVERY": "0",
        "WEE_WAA_MAX_UNFINISHED_PER_USER": "10000",
        "WEE_WAA_MAX_QUEUE": "100000",
        "WEE_WAA_DEVICE": "cpu",
        "WEE_WAA_MODEL_CACHE": str(ROOT / ".data" / "models"),  # the tiny model is built once
    }
    try:
        with running_server("tiny", extra_env=env) as server:
            report = asyncio.run(soak(server, args))
            log = (server.data_dir / "server.log").read_text(errors="replace")
            report["server_log_errors"] = sum("Traceback" in line for line in log.splitlines())
    finally:
        scratch.flushdb()
        scratch.close()

    print(json.dumps(report, indent=2))
    verdict = "PASS" if report["connected"] == args.clients and report["dropped"] == 0 else "FAIL"
    print(
        f"{verdict}: {report['connected']}/{args.clients} connected, {report['dropped']} dropped, "
        f"{report['events_lost']}/{report['events_expected']} events lost, "
        f"RSS MiB {report['server_rss_mib']}"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
