"""Scale-out for real: ``generation_worker`` processes sharing one PostgreSQL queue, and their
progress crossing Redis to a browser whose web process draws nothing.

Every process is the real command (``manage.py generation_worker``, ``manage.py serve``) on a
database made for the test, so claims, leases and recovery run exactly as deployed. This
process never touches that database through the ORM (pytest-django owns its connection): it
sets data up through small Django scripts run as subprocesses and reads rows with psycopg.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.integration.workers import (
    JOBS_DEADLINE,
    MIGRATE_AND_SIGN_UP,
    RESULTS,
    SLOW_JOB,
    STOP_DEADLINE,
    TINY_JOB,
    Worker,
    Workers,
    base_env,
    django_script,
    jobs,
    queue_jobs,
    registered,
    rows,
)
from tests.live_server import Client, Server, start_server

pytestmark = pytest.mark.integration


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    fleet = Workers(tmp_path)
    try:
        yield fleet
    finally:
        fleet.kill_all()


def test_two_workers_on_postgresql_never_claim_the_same_job(
    fresh_postgres_database: str, workers: Workers, model_cache: Path, tmp_path: Path
) -> None:
    env = base_env(fresh_postgres_database, model_cache, tmp_path / "data")
    django_script(env, MIGRATE_AND_SIGN_UP, "alice", "bob", "charlie")
    first, second = workers.start("a", env), workers.start("b", env)
    workers.wait_ready(first, second)

    queued = queue_jobs(env, 30, TINY_JOB)
    started = time.monotonic()
    workers.wait_until(
        "all 30 jobs finished",
        lambda: all(job["status"] in {"succeeded", "failed", "cancelled"} for job in jobs(fresh_postgres_database)),
        JOBS_DEADLINE,
        every=0.25,
    )
    seconds = time.monotonic() - started

    finished = jobs(fresh_postgres_database)
    assert sorted(job["id"] for job in finished) == sorted(queued)
    problems = [job for job in finished if job["status"] != "succeeded" or job["attempts"] != 1]
    assert not problems, f"Jobs not succeeded at the first attempt: {problems}\n{workers.tails()}"
    assert all(job["images"] == job["count"] == 1 for job in finished), finished
    assert {job["worker"] for job in finished} == {first.worker_id, second.worker_id}, workers.tails()
    assert re.fullmatch(r"[^:]+:\d+:[0-9a-f]+", first.worker_id or "")
    shares = Counter(job["worker"] for job in finished)
    print(f"30 jobs on two workers in {seconds:.1f} s; jobs per worker: {sorted(shares.values())}")
    for worker in (first, second):
        assert "taken over by another worker" not in worker.output(), workers.tails()
        assert workers.stop(worker) == 0, workers.tails()
    assert not rows(fresh_postgres_database, "SELECT id FROM generation_generationworker"), (
        "stopped workers stay listed"
    )


def one_job_drawn_by_the_first_of_two_workers(
    database_url: str, workers: Workers, env: dict[str, str], *, progress: float
) -> tuple[Worker, Worker, str]:
    """Two loaded workers, A and B; B is frozen (SIGSTOP) while A claims one slow job and draws
    it past ``progress``. B is then loaded and registered, so when A goes, what is measured is
    the hand-over alone, not B's model loading."""
    django_script(env, MIGRATE_AND_SIGN_UP, "alice")
    first, second = workers.start("a", env), workers.start("b", env)
    workers.wait_ready(first, second)
    workers.wait_until("worker B has its row", lambda: registered(database_url, second), 30)
    second.signal(signal.SIGSTOP)
    [job_id] = queue_jobs(env, 1, SLOW_JOB)

    def drawing_on_a() -> bool:
        [job] = jobs(database_url)
        if job["status"] not in {"queued", "running"}:
            pytest.fail(f"The job ended before A could be stopped (make SLOW_JOB slower): {job}\n{workers.tails()}")
        return bool(job["status"] == "running" and job["worker"] == first.worker_id and job["progress"] > progress)

    workers.wait_until(f"worker A has drawn more than {progress:.0%} of the job", drawing_on_a, 60, every=0.05)
    return first, second, job_id


def record_figure(figure: dict[str, Any]) -> None:
    """One JSON line per run in bench/results/scale_out.json, for the benchmark report."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a") as out:
        out.write(json.dumps({**figure, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}) + "\n")


def test_a_killed_workers_job_is_finished_by_the_other_worker(
    fresh_postgres_database: str, workers: Workers, model_cache: Path, tmp_path: Path
) -> None:
    env = base_env(fresh_postgres_database, model_cache, tmp_path / "data", WEE_WAA_LEASE_SECONDS="3")
    doomed, survivor, job_id = one_job_drawn_by_the_first_of_two_workers(
        fresh_postgres_database, workers, env, progress=0.0
    )

    doomed.expected_dead = True
    doomed.signal(signal.SIGKILL)
    killed_at = time.monotonic()
    # Reap it now: a zombie still answers kill(pid, 0), so it would look alive to B until
    # the lease ran out (a supervisor reaps its children the same way).
    doomed.process.wait(timeout=10)
    survivor.signal(signal.SIGCONT)

    taken_over: list[float] = []

    def finished_elsewhere() -> bool:
        [job] = jobs(fresh_postgres_database)
        if not taken_over and job["status"] == "running" and job["worker"] == survivor.worker_id:
            taken_over.append(time.monotonic() - killed_at)
        if job["status"] in {"failed", "cancelled"}:
            pytest.fail(f"The killed worker's job ended {job['status']}: {job}\n{workers.tails()}")
        return bool(job["status"] == "succeeded")

    workers.wait_until("worker B finished the killed worker's job", finished_elsewhere, 120, every=0.05)
    seconds = time.monotonic() - killed_at

    [job] = jobs(fresh_postgres_database)
    assert job["id"] == job_id
    assert job["worker"] == survivor.worker_id, workers.tails()
    assert job["attempts"] == 2
    assert job["images"] == 1
    claimed = taken_over[0] if taken_over else float("nan")
    print(f"killed-worker recovery: {seconds:.2f} s (claimed again by the other worker after {claimed:.2f} s)")
    record_figure(
        {
            "measure": "killed_worker_recovery",
            "kill_to_claim_s": round(claimed, 3),
            "kill_to_success_s": round(seconds, 3),
            "lease_seconds": 3,
            "job": SLOW_JOB,
        }
    )
    assert workers.stop(survivor) == 0, workers.tails()


def test_a_frozen_workers_job_goes_to_the_other_worker_when_its_lease_runs_out_and_stays_there(
    fresh_postgres_database: str, workers: Workers, model_cache: Path, tmp_path: Path
) -> None:
    """A stalled worker (swapping, paused VM, cut off from the database) keeps its pid, so only
    its lease can tell. When it wakes with a head start, its late result must be thrown away,
    and the job must still end as the other worker draws it."""
    env = base_env(fresh_postgres_database, model_cache, tmp_path / "data", WEE_WAA_LEASE_SECONDS="3")
    stalled, other, job_id = one_job_drawn_by_the_first_of_two_workers(
        fresh_postgres_database, workers, env, progress=0.3
    )

    stalled.signal(signal.SIGSTOP)
    frozen_at = time.monotonic()
    other.signal(signal.SIGCONT)

    def claimed_by_the_other() -> bool:
        [job] = jobs(fresh_postgres_database)
        return bool(job["status"] == "running" and job["worker"] == other.worker_id)

    workers.wait_until("worker B claimed the job after A's lease ran out", claimed_by_the_other, 30, every=0.05)
    claimed = time.monotonic() - frozen_at
    stalled.signal(signal.SIGCONT)  # A wakes with a head start of a third: it finishes first

    def final() -> dict[str, Any] | None:
        [job] = jobs(fresh_postgres_database)
        return job if job["status"] in {"succeeded", "failed", "cancelled"} else None

    job = workers.wait_until("the job ended", final, 120, every=0.05)
    print(f"stalled-worker recovery: claimed by the other worker {claimed:.2f} s after A froze")
    if job["status"] == "cancelled":
        pytest.fail(
            "The job ended 'cancelled' though nobody asked: the stalled worker must not write to a "
            "job it no longer holds (store.cancel once cancelled any running job, whoever held it).\n"
            f"{job}\n{workers.tails()}"
        )
    assert job["status"] == "succeeded", f"{job}\n{workers.tails()}"
    assert job["id"] == job_id
    assert job["worker"] == other.worker_id
    assert job["attempts"] == 2
    assert job["images"] == 1
    assert "taken over by another worker" in stalled.output(), workers.tails()
    for worker in (stalled, other):
        assert workers.stop(worker) == 0, workers.tails()


async def follow_one_job(client: Client, options: dict[str, int]) -> tuple[str, list[dict[str, Any]]]:
    """Opens the studio's websocket, queues a job through the API, and returns the job's
    events up to and including ``job.finished``."""
    events: list[dict[str, Any]] = []
    async with websockets.connect(client.websocket_url, additional_headers=client.websocket_headers()) as ws:
        job = await asyncio.to_thread(client.create_job, {"prompt": "scale-out over Redis", **options})
        async with asyncio.timeout(90):
            while not events or events[-1]["type"] != "job.finished":
                event = json.loads(await ws.recv())
                if event.get("job_id") == job["id"]:
                    events.append(event)
    return str(job["id"]), events


def test_progress_from_a_worker_process_reaches_a_browser_on_the_web_process_through_redis(
    fresh_postgres_database: str, scratch_redis_url: str, workers: Workers, model_cache: Path, tmp_path: Path
) -> None:
    env = base_env(fresh_postgres_database, model_cache, tmp_path / "worker-data", REDIS_URL=scratch_redis_url)
    django_script(env, MIGRATE_AND_SIGN_UP)  # so the worker and the server start side by side
    worker = workers.start("w", env)
    web_data = tmp_path / "web-data"
    web_data.mkdir()
    workers.extra_logs.append(web_data / "server.log")
    server: Server | None = None
    try:
        server = start_server(
            web_data,
            extra_env={
                "DATABASE_URL": fresh_postgres_database,
                "REDIS_URL": scratch_redis_url,
                "WEE_WAA_MANAGER": "off",
                "WEE_WAA_LOG_LEVEL": "INFO",
            },
            wait_for_model=False,
        )
        workers.wait_ready(worker)
        client = Client(server.url)
        client.sign_up()

        try:
            options = {"width": 64, "height": 64, "steps": 3, "count": 1}
            # Its own thread: Playwright's session-wide browser keeps a loop running in this one.
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                job_id, events = pool.submit(asyncio.run, follow_one_job(client, options)).result()
        except TimeoutError:
            pytest.fail(f"No job.finished reached the browser within 90 s\n{workers.tails()}")

        seen = [(event["type"], event.get("step"), event.get("status")) for event in events]
        progress = [event for event in events if event["type"] == "job.progress"]
        assert [event["step"] for event in progress] == [1, 2, 3], seen
        assert all(isinstance(event["sent_at"], float) for event in progress)
        finished = events[-1]
        assert finished["status"] == "succeeded", finished
        assert len(finished["images"]) == 1
        [job] = jobs(fresh_postgres_database)
        assert job["id"] == job_id
        assert job["worker"] == worker.worker_id  # drawn by the worker process, not the web one

        def health_listing_the_worker() -> dict[str, Any] | None:
            health = client.health()
            return health if worker.worker_id in [row["id"] for row in health["workers"]] else None

        health = workers.wait_until("the web server's /healthz lists the worker", health_listing_the_worker, 30, 0.5)
        assert health["manager"]["mode"] == "off"
        assert health["manager"]["alive"] is False
        assert health["model"]["state"] == "external"
        assert workers.stop(worker) == 0, workers.tails()
    finally:
        if server is not None:
            server.process.terminate()
            try:
                server.process.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
