"""A real HTTP receiver for webhook tests: ``http.server`` on 127.0.0.1 in a thread.

It records every request and answers from a script (one status per request, the last one
repeating), so tests see exactly what went over the wire: headers, body, how many times.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def verify(secret: str, headers: dict[str, str], body: bytes, *, max_age: int = 300) -> bool:
    """The receiver's check, as the README shows it."""
    timestamp = headers["X-WeeWaa-Timestamp"]
    expected = "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= max_age
    return fresh and hmac.compare_digest(expected, headers["X-WeeWaa-Signature"])


class Receiver:
    def __init__(
        self,
        statuses: list[int] | None = None,
        *,
        delay: float = 0.0,
        body: str = "ok",
        location: str = "",
        trickle: float = 0.0,
    ) -> None:
        self.statuses = list(statuses or [200])
        self.delay = delay  # seconds before answering at all
        self.body = body
        self.location = location  # a Location header (to answer a redirect)
        self.trickle = trickle  # seconds between header bytes: a receiver that never quite answers
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                time.sleep(receiver.delay)
                if receiver.trickle:
                    self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                    for _ in range(50):
                        self.wfile.write(b"a")
                        self.wfile.flush()
                        time.sleep(receiver.trickle)
                    return
                payload = receiver.body.encode()
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/wee-waa?source=test"

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(5)
