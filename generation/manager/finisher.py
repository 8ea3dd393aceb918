"""The result pool: everything after a pipeline call that is not device work.

The drawing thread hands each finished chunk's pictures over and goes on drawing; one *store
lane* (a single thread, so the order holds) encodes the PNGs, writes the files and the batch's
one transaction, then tells the owners; it also writes the throttled progress rows and renews
leases, so no database round trip sits in the step loop. Preview JPEGs are encoded on a small
*encode* pool. With ``workers=0`` everything runs inline on the caller's thread (tests that read
the database right after ``run_once``, in a transaction other threads cannot see).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


def _done(value: Any = None, error: BaseException | None = None) -> Future[Any]:
    future: Future[Any] = Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
    return future


def _run_inline(fn: Callable[[], T]) -> Future[T]:
    try:
        return _done(fn())
    except Exception as exc:
        logger.exception("Inline result work failed")
        return _done(error=exc)


class ResultPool:
    """``store``: ordered work that touches the job store; ``encode``: CPU work in parallel;
    ``latest``: store work where only the newest request matters (progress rows)."""

    def __init__(self, workers: int, on_close: Callable[[], None] | None = None) -> None:
        self.workers = workers
        self.on_close = on_close
        self._store: ThreadPoolExecutor | None = None
        self._encode: ThreadPoolExecutor | None = None
        self._pending: dict[str, Future[Any]] = {}
        self._last: Future[Any] = _done()
        self._lock = threading.Lock()
        if workers > 0:
            self._store = ThreadPoolExecutor(1, thread_name_prefix="wee-waa-results")
            self._encode = ThreadPoolExecutor(workers, thread_name_prefix="wee-waa-encode")

    @property
    def inline(self) -> bool:
        return self._store is None

    def store(self, fn: Callable[[], T]) -> Future[T]:
        if self._store is None:
            return _run_inline(fn)
        future = self._store.submit(_logged, fn)
        with self._lock:
            self._last = future
        return future

    def latest(self, key: str, fn: Callable[[], Any]) -> bool:
        """Queue ``fn`` unless the previous one under ``key`` has not run yet; False if skipped."""
        if self._store is None:
            _run_inline(fn)
            return True
        with self._lock:
            previous = self._pending.get(key)
            if previous is not None and not previous.done():
                return False
            self._pending[key] = future = self._store.submit(_logged, fn)
            self._last = future
        return True

    def encode(self, fn: Callable[[], T]) -> Future[T]:
        if self._encode is None:
            return _run_inline(fn)
        return self._encode.submit(_logged, fn)

    def drain(self, timeout: float | None = None) -> None:
        """Wait until the store lane has done everything handed to it so far."""
        if self._store is None:
            return
        marker = self._store.submit(lambda: None)
        marker.result(timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        """Finish what was handed over, then let the lane drop what it holds (its connection)."""
        if self._store is None:
            if self.on_close is not None:
                self.on_close()
            return
        try:
            self.drain(timeout)
        except Exception:
            logger.exception("The result pool did not finish in time")
        if self.on_close is not None:
            self._store.submit(_logged, self.on_close)
        self._store.shutdown(wait=True)
        if self._encode is not None:
            self._encode.shutdown(wait=True)


def _logged(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except BaseException:
        logger.exception("Result work failed")
        raise
