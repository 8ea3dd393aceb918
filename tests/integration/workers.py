"""The scale-out tests' harness: real ``generation_worker`` processes on a database made for the
test, Django scripts run as subprocesses to set data up, and psycopg to read rows back (this
process never touches that database through the ORM: pytest-django owns its connection)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg.rows import dict_row

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "bench" / "results" / "scale_out.json"

READY_DEADLINE = 150.0  # a worker imports torch and loads (or first builds) the tiny model
JOBS_DEADLINE = 180.0
STOP_DEADLINE = 30.0
TINY_JOB = {"width": 64, "height": 64, "steps": 2, "count": 1}
# Long enough on a CPU that worker A is still drawing it when it is stopped, right after its
# first progress write (~0.25 s in): 1 s on an idle 2-core machine, up to ~20 s on a busy one.
SLOW_JOB = {"width": 128, "height": 128, "steps": 50, "count": 1}

T = TypeVar("T")

MIGRATE_AND_SIGN_UP = """
import sys
import django
django.setup()
from django.core.management import call_command
from accounts.models import User
call_command("migrate", interactive=False, verbosity=0)
for name in sys.argv[1:]:
    User.objects.create_user(name, f"{name}@example.com", "scale out password 123")
"""

# All jobs commit together, so both workers find a full queue at the same moment.
QUEUE_JOBS = """
import json
import sys
import django
django.setup()
from django.db import transaction
from accounts.models import User
from generation import services
request = json.loads(sys.argv[1])
owners = list(User.objects.order_by("username"))
with transaction.atomic():
    jobs = [
        services.job_create(owner=owners[n % len(owners)], prompt=f"scale-out {n}", **request["options"]).job
        for n in range(request["jobs"])
    ]
print(json.dumps([job.id for job in jobs]))
"""


def django_script(env: dict[str, str], code: str, *args: str) -> str:
    """Runs ``code`` with Django set up on the test's database; returns what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, f"Django script failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def rows(database_url: str, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as connection:
        return connection.execute(query, params).fetchall()  # type: ignore[arg-type]


def jobs(database_url: str) -> list[dict[str, Any]]:
    return rows(
        database_url,
        "SELECT j.id, j.status, j.attempts, j.worker, j.progress, j.count, j.error,"
        " (SELECT count(*) FROM generation_background b WHERE b.job_id = j.id) AS images"
        " FROM generation_generationjob j ORDER BY j.created_at, j.id",
    )


def registered(database_url: str, worker: Worker) -> bool:
    """The worker's own row, written by its heartbeat: web processes read these."""
    query = "SELECT id FROM generation_generationworker WHERE id = %s"
    return bool(worker.worker_id and rows(database_url, query, (worker.worker_id,)))


def base_env(database_url: str, model_cache: Path, data_dir: Path, **overrides: str) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "wee_waa.settings",
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "WEE_WAA_MODEL": "tiny",
        "WEE_WAA_MODEL_CACHE": str(model_cache),
        "WEE_WAA_DATA_DIR": str(data_dir),
        "WEE_WAA_DEVICE": "cpu",  # the timings below assume a CPU, and these tests are about processes
        "WEE_WAA_MAX_BATCH": "2",
        "WEE_WAA_POLL_SECONDS": "0.1",
        "WEE_WAA_MAX_UNFINISHED_PER_USER": "100",
        "WEE_WAA_LOG_LEVEL": "INFO",
        **overrides,
    }


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    expected_dead: bool = False

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, chars: int = 2500) -> str:
        return (
            f"--- worker {self.name} (pid {self.process.pid}, exit {self.process.poll()}) ---\n"
            + self.output()[-chars:]
        )

    @property
    def worker_id(self) -> str | None:
        match = re.search(r"Generation worker (\S+) started", self.output())
        return match.group(1) if match else None

    @property
    def ready(self) -> bool:
        return re.search(r"^Model \S+: ready$", self.output(), re.MULTILINE) is not None

    def signal(self, signum: signal.Signals) -> None:
        os.kill(self.process.pid, signum)


@dataclass
class Workers:
    """Starts ``generation_worker`` processes; whatever happens, none outlives the test."""

    folder: Path
    started: list[Worker] = field(default_factory=list)
    extra_logs: list[Path] = field(default_factory=list)

    def start(self, name: str, env: dict[str, str]) -> Worker:
        log = self.folder / f"worker-{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "generation_worker"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(name, process, log)
        self.started.append(worker)
        return worker

    def tails(self) -> str:
        parts = [worker.tail() for worker in self.started]
        parts += [f"--- {path.name} ---\n{path.read_text(errors='replace')[-2500:]}" for path in self.extra_logs]
        return "\n".join(parts)

    def check_alive(self) -> None:
        for worker in self.started:
            if not worker.expected_dead and worker.process.poll() is not None:
                pytest.fail(f"Worker {worker.name} exited early with {worker.process.returncode}\n{self.tails()}")

    def wait_until(self, what: str, check: Callable[[], T | None], timeout: float, every: float = 0.1) -> T:
        """Polls ``check`` until it returns something truthy; fails with every worker's output."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"Timed out after {timeout:.0f} s waiting until {what}\n{self.tails()}")
            time.sleep(every)

    def wait_ready(self, *workers: Worker) -> None:
        names = ", ".join(worker.name for worker in workers)
        self.wait_until(f"workers {names} loaded the model", lambda: all(w.ready for w in workers), READY_DEADLINE)

    def stop(self, worker: Worker) -> int:
        """SIGTERM, as a supervisor stops a worker; returns the exit status."""
        worker.expected_dead = True
        worker.signal(signal.SIGTERM)
        try:
            return worker.process.wait(timeout=STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            pytest.fail(f"Worker {worker.name} did not stop within {STOP_DEADLINE:.0f} s of SIGTERM\n{self.tails()}")

    def kill_all(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    worker.signal(signal.SIGCONT)  # a frozen process cannot act on SIGTERM
                    worker.process.terminate()
        for worker in self.started:
            try:
                worker.process.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()


def queue_jobs(env: dict[str, str], count: int, options: dict[str, int]) -> list[str]:
    ids: list[str] = json.loads(django_script(env, QUEUE_JOBS, json.dumps({"jobs": count, "options": options})))
    return ids
