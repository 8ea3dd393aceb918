"""``POST /api/v1/jobs/`` with the manager off, at several queue lengths: req/s, p50 and p95.

    python -m bench.api_queue [--lengths 0,500,5000] [--seconds 6] [--procs 3] [--threads 6]
                              [--users 64] [--servers 1] [--py-spy FOLDER]

A real server (``manage.py serve``, ``WEE_WAA_MANAGER=off``, SQLite in a temporary folder),
loaded like a load test: ``--procs`` client processes of ``--threads`` threads each, every
thread on its own keep-alive connection, signed in as one of ``--users`` users (session cookie
and CSRF token, as the studio sends them), POSTing jobs back to back for ``--seconds``. One
client thread sending requests one after another would measure the client as much as the
server. ``--servers 2`` starts a second web process on the same database (what a deployment
with the manager off scales by) and splits the clients between them.

Before each round the queue is filled to the length with rows written directly (fair tags
spread as real jobs would be), and the previous round's jobs are removed, so every round starts
at its length. ``WEE_WAA_MAX_QUEUE`` and ``WEE_WAA_MAX_UNFINISHED_PER_USER`` are raised so no
request meets a 429. ``--py-spy FOLDER`` records the first server during each round
(``py-spy record -f raw``: collapsed stacks per length, for any flame graph tool).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tests.live_server import running_server

PROMPT = "bench post"
UNUSABLE = "!"  # what set_unusable_password() stores: these users sign in by session only


def client_process(
    port_list: list[int], cookies: list[str], threads: int, start_at: float, stop_at: float, offset: int
) -> tuple[list[float], int, str]:
    """One client process: ``threads`` keep-alive connections POSTing until ``stop_at``.
    Returns the latencies of the answers that came back 201, the count of others, and one sample
    of an unexpected answer."""
    latencies: list[float] = []
    failures = [0]
    sample = [""]
    lock = threading.Lock()

    def worker(number: int) -> None:
        index = offset + number
        port = port_list[index % len(port_list)]
        csrf = secrets.token_hex(16)
        headers = {
            "Content-Type": "application/json",
            "Cookie": f"sessionid={cookies[index % len(cookies)]}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
        }
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.time() < start_at:
            time.sleep(0.005)
        sent = 0
        while time.time() < stop_at:
            body = json.dumps({"prompt": f"{PROMPT} {index} {sent}", "width": 64, "height": 64, "steps": 4})
            sent += 1
            began = time.perf_counter()
            try:
                connection.request("POST", "/api/v1/jobs/", body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                bad += 1
                sample[0] = sample[0] or repr(exc)
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if response.status == 201:
                mine.append(time.perf_counter() - began)
            else:
                bad += 1
                sample[0] = sample[0] or f"{response.status}: {payload[:200]!r}"
        connection.close()
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    pool = [threading.Thread(target=worker, args=(number,)) for number in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return latencies, failures[0], sample[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux ``/proc``; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fill_queue(length: int, users: list[Any], style: Any) -> None:
    from generation.models import GenerationJob

    GenerationJob.objects.filter(prompt__startswith=PROMPT).delete()
    GenerationJob.objects.filter(prompt="filler").delete()
    rows = [
        GenerationJob(
            owner=users[n % len(users)],
            style=style,
            prompt="filler",
            full_prompt="filler",
            seed=n,
            width=64,
            height=64,
            steps=4,
            count=1,
            fair_tag=float(n // len(users)) * 0.016,
            fair_finish=float(n // len(users) + 1) * 0.016,
        )
        for n in range(length)
    ]
    GenerationJob.objects.bulk_create(rows, batch_size=500)


def sessions_for(count: int) -> tuple[list[Any], list[str]]:
    """``count`` users, each signed in once (a session row, as a login writes it)."""
    from django.test import Client

    from accounts.models import User

    users = User.objects.bulk_create([User(username=f"apibench{n}", password=UNUSABLE) for n in range(count)])
    users = list(User.objects.filter(username__startswith="apibench").order_by("id"))
    cookies = []
    for user in users:
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
    return users, cookies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lengths", default="0,500,5000")
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--procs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=6)
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--servers", type=int, default=1, choices=[1, 2, 3, 4])
    parser.add_argument("--py-spy", type=Path, default=None, help="folder for py-spy stacks of the server")
    args = parser.parse_args()
    lengths = [int(part) for part in args.lengths.split(",")]
    beside = Path(sys.executable).parent / "py-spy"
    py_spy = str(beside) if beside.exists() else shutil.which("py-spy")
    if args.py_spy is not None and py_spy is None:
        sys.exit("--py-spy needs py-spy (pip install py-spy)")

    data = Path(tempfile.mkdtemp(prefix="wee-waa-api-bench-"))
    env = {
        "WEE_WAA_MANAGER": "off",
        "WEE_WAA_MAX_QUEUE": "10000000",
        "WEE_WAA_MAX_UNFINISHED_PER_USER": "10000000",
        "WEE_WAA_WEBHOOK_THREAD": "false",
    }
    try:
        with ExitStack() as stack:
            servers = [
                stack.enter_context(running_server(extra_env=env, data=data, wait_for_model=False))
                for _ in range(args.servers)
            ]
            os.environ.update(
                {
                    **env,
                    "DJANGO_SETTINGS_MODULE": "wee_waa.settings",
                    "WEE_WAA_DATA_DIR": str(data),
                    "DATABASE_URL": f"sqlite:///{data / 'db.sqlite3'}",
                    "REDIS_URL": "",
                    "ALLOWED_HOSTS": "testserver,127.0.0.1",
                    "WEE_WAA_LOG_LEVEL": "WARNING",
                }
            )
            import django

            django.setup()
            from generation.models import Style

            users, cookies = sessions_for(args.users)
            style = Style.objects.filter(is_active=True).order_by("-is_default", "name", "id").first()
            ports = [int(server.url.rsplit(":", 1)[1]) for server in servers]
            print(
                f"{args.servers} server(s), {args.procs} x {args.threads} client threads, {args.users} users, "
                f"{args.seconds:g} s per round; cores: {os.cpu_count()}",
                flush=True,
            )
            results = []
            for length in lengths:
                fill_queue(length, users, style)
                spy = None
                if args.py_spy is not None and py_spy is not None:
                    args.py_spy.mkdir(parents=True, exist_ok=True)
                    spy = subprocess.Popen(
                        [py_spy, "record", "-p", str(servers[0].process.pid), "-d", str(int(args.seconds) + 1),
                         "-o", str(args.py_spy / f"api-queue-{length}.txt"), "-f", "raw", "-s"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    )  # fmt: skip
                cpu_before = sum(cpu_seconds(server.process.pid) for server in servers)
                start_at = time.time() + 1.0
                stop_at = start_at + args.seconds
                context = multiprocessing.get_context("fork")
                with context.Pool(args.procs) as pool:
                    parts = pool.starmap(
                        client_process,
                        [
                            (ports, cookies, args.threads, start_at, stop_at, number * args.threads)
                            for number in range(args.procs)
                        ],
                    )
                cpu = sum(cpu_seconds(server.process.pid) for server in servers) - cpu_before
                if spy is not None:
                    spy.wait(timeout=60)
                latencies = [value for part in parts for value in part[0]]
                failed = sum(part[1] for part in parts)
                sample = next((part[2] for part in parts if part[2]), "")
                if not latencies:
                    sys.exit(f"no request succeeded: {sample}")
                rate = len(latencies) / args.seconds
                p50 = statistics.median(latencies) * 1000
                p95 = statistics.quantiles(latencies, n=20)[18] * 1000 if len(latencies) > 20 else float("nan")
                results.append((length, rate, p50, p95))
                note = f", server CPU {cpu / len(latencies) * 1000:.1f} ms/request"
                note += f", {failed} failed (e.g. {sample})" if failed else ""
                print(
                    f"queue {length:>5}: {rate:6.1f} req/s, p50 {p50:6.1f} ms, p95 {p95:6.1f} ms, "
                    f"{len(latencies)} jobs queued{note}",
                    flush=True,
                )
    finally:
        shutil.rmtree(data, ignore_errors=True)
    base = results[0][1]
    worst = min(rate for _, rate, _, _ in results)
    print(
        f"slowest / queue {results[0][0]}: {worst / base:.2f} (target >= 0.90); "
        f"queue {results[0][0]}: {base:.1f} req/s (target >= 150 on 2 cores)"
    )


if __name__ == "__main__":
    main()
