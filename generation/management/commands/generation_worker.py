"""``manage.py generation_worker``: the model manager as its own process, for GPU hosts.

Web processes then run with ``WEE_WAA_MANAGER=off``; jobs reach this process through the
database (PostgreSQL claims with SKIP LOCKED) and its events reach browsers through Redis.
SIGTERM or Ctrl+C stops it gracefully: the batch being drawn goes back to the queue.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from generation import runtime
from generation.manager.types import ModelState


class Command(BaseCommand):
    help = "Run the model manager in this process: claim queued generation jobs and draw them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--model", default=None, help="Overrides WEE_WAA_MODEL for this worker.")
        parser.add_argument(
            "--metrics-port", type=int, default=0, help="Serve Prometheus metrics on this port (0: off)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if options["metrics_port"]:
            from prometheus_client import start_http_server

            start_http_server(options["metrics_port"])
        if not settings.REDIS_URL:
            self.stderr.write(
                "Warning: REDIS_URL is not set, so this worker's progress events cannot reach the "
                "web server's browsers (jobs still complete; pages see them on their next refresh)."
            )
        # Built explicitly: a worker has no server loop, so events go out on the publisher's own.
        process = runtime.build_runtime(model=options["model"])
        runtime.install(process)
        manager = process.manager
        assert manager is not None  # build_runtime builds one unless told not to
        process.start()
        self.stdout.write(f"Generation worker {manager.worker_id} started (model {manager.loader.model})", ending="\n")
        self.stdout.flush()
        announced = False
        while not stop.wait(0.5):
            if not announced and manager.status.state in {ModelState.READY, ModelState.FAILED}:
                announced = True
                self.stdout.write(
                    f"Model {manager.status.model or manager.status.requested_model}: {manager.status.state}"
                )
                self.stdout.flush()
            manager.ensure_running()
        self.stdout.write("Stopping: the batch being drawn goes back to the queue")
        process.stop(timeout=30)
        self.stdout.write("Stopped")
