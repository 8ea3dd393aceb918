"""``manage.py serve``: the README's run command, as a real process."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from bench.server import Client, free_port

ROOT = Path(__file__).resolve().parent.parent


def test_sigterm_stops_the_server_promptly_and_hands_the_running_job_back(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "WEE_WAA_MODEL": "tiny",
        "WEE_WAA_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": "",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        client = Client(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 120
        while True:
            try:
                if client.health()["model"]["loaded"]:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.2)
        assert f"http://127.0.0.1:{port}/" in (tmp_path / "server.log").read_text()

        client.sign_up()
        for _ in range(3):  # long jobs: one will be mid-drawing when the signal comes
            client.create_job({"prompt": "slow", "width": 512, "height": 512, "steps": 50, "count": 2})
        database = sqlite3.connect(tmp_path / "db.sqlite3")
        while (
            database.execute("select count(*) from generation_generationjob where status='running'").fetchone()[0] == 0
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)

        server.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        server.wait(timeout=30)
        took = time.monotonic() - stopped_at

        statuses = dict(database.execute("select status, count(*) from generation_generationjob group by status"))
        assert took < 15, f"took {took:.1f}s to stop"
        assert statuses.get("running", 0) == 0, statuses
        assert statuses.get("queued", 0) >= 2, statuses  # the interrupted job is queued again
    finally:
        if server.poll() is None:
            server.kill()
        log.close()
