"""``manage.py serve``: the README's run command, as a real process."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

from tests.live_server import Client, start_server


def test_sigterm_stops_the_server_promptly_and_hands_the_running_job_back(tmp_path: Path) -> None:
    server = start_server(tmp_path, "tiny", {"WEE_WAA_LOG_LEVEL": "INFO"})
    try:
        log = (tmp_path / "server.log").read_text()
        assert f"{server.url}/" in log
        # Daphne has no ASGI lifespan: its reactor's start hook built the runtime, not a request.
        assert "The generation runtime started (model manager: on)" in log
        assert "first connection" not in log
        client = Client(server.url)
        client.sign_up()
        for _ in range(3):  # long jobs: one will be mid-drawing when the signal comes
            client.create_job({"prompt": "slow", "width": 512, "height": 512, "steps": 50, "count": 2})
        database = sqlite3.connect(tmp_path / "db.sqlite3")
        deadline = time.monotonic() + 60
        while (
            database.execute("select count(*) from generation_generationjob where status='running'").fetchone()[0] == 0
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)

        server.process.send_signal(signal.SIGTERM)
        stopped_at = time.monotonic()
        server.process.wait(timeout=30)
        took = time.monotonic() - stopped_at

        statuses = dict(database.execute("select status, count(*) from generation_generationjob group by status"))
        assert took < 15, f"took {took:.1f}s to stop"
        assert statuses.get("running", 0) == 0, statuses
        assert statuses.get("queued", 0) >= 2, statuses  # the interrupted job is queued again
    finally:
        if server.process.poll() is None:
            server.process.kill()
