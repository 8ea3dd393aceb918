"""What the manager's threads share: cancels and lost leases, how big a call may be, who we are.

The web thread (a cancel) and the heartbeat thread (a lease another worker took) write; the
drawing thread reads at every step. Kept apart from ``batch`` so the manager owns them across
batches and hands them to each one.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterable
from datetime import UTC, datetime


class JobFlags:
    """Cancels and losses heard of by other threads (the web, the heartbeat) while a batch
    draws; the drawing thread reads them at every step."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cancels: set[str] = set()
        self._lost: set[str] = set()

    def cancel(self, job_id: str) -> None:
        with self._lock:
            self._cancels.add(job_id)

    def lose(self, job_id: str) -> None:
        with self._lock:
            self._lost.add(job_id)

    def cancel_asked(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._cancels

    def was_lost(self, job_id: str) -> bool:
        with self._lock:
            return job_id in self._lost

    def forget(self, job_ids: Iterable[str]) -> None:
        with self._lock:
            self._cancels.difference_update(job_ids)
            self._lost.difference_update(job_ids)


class BatchLimit:
    """How many images one pipeline call may hold. After an out-of-memory split it stays lower
    and grows back by one image after ``regrow_after`` good calls in a row."""

    def __init__(self, maximum: int, regrow_after: int) -> None:
        self.maximum = maximum
        self.current = maximum
        self.regrow_after = regrow_after
        self._good = 0

    def out_of_memory(self, images: int) -> None:
        self.current = max(1, min(self.current, images))
        self._good = 0

    def succeeded(self) -> None:
        self._good += 1
        if self.current < self.maximum and self._good >= self.regrow_after:
            self.current += 1
            self._good = 0


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_worker_id() -> str:
    """``host:pid:nonce``: readable in admin, and lets a restarted process on the same host
    see at once that the previous one is gone."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
