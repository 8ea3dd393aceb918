"""Django's HTTP side under ASGI, run the way a threaded WSGI server would run it.

Django's own ASGI handler serves each request with the middleware in async mode, so every
sync-only piece (most of Django's middleware, sessions, the ORM, our views) hops between the
event loop and a thread: measured here, a dozen hops per request, each waiting for a loop
that is busy with every other connection. It also gives each request a brand-new thread, so
every request opened a new database connection (``CONN_MAX_AGE`` never applied) and, on
SQLite, threads without end raced for the write lock.

Here the middleware chain is loaded in sync mode and a request's whole chain runs in one call
on one of a fixed set of threads (``WEE_WAA_HTTP_THREADS``): one hop in, one out, connections
kept per thread, and a bounded number of requests in Django at once (the rest wait their turn
on the loop, which costs nothing). Websockets are untouched: channels serves them on the loop.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.http import FileResponse, HttpRequest, HttpResponseBase

Scope = dict[str, Any]


class ThreadPoolHandler(ASGIHandler):
    def __init__(self, threads: int) -> None:
        base.BaseHandler.__init__(self)  # not ASGIHandler's: it loads the middleware for async
        self.load_middleware(is_async=False)
        self.threads = threads
        self._free: asyncio.Queue[ThreadPoolExecutor] | None = None

    def _pool(self) -> asyncio.Queue[ThreadPoolExecutor]:
        """Made on first use, on the server's loop. One single-thread executor per slot: a
        request's sync calls (the chain, the body's close, the signals) all land on its thread."""
        if self._free is None:
            free: asyncio.Queue[ThreadPoolExecutor] = asyncio.Queue()
            for number in range(self.threads):
                free.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{number}"))
            self._free = free
        return self._free

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        pool = self._pool()
        executor = await pool.get()
        try:
            # A request whose client left is cancelled on the loop while its thread finishes
            # the call: the executor then serves the next request after it, never beside it.
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            pool.put_nowait(executor)

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:  # type: ignore[override]
        response = await sync_to_async(self.get_response, thread_sensitive=True)(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]
        if isinstance(response, FileResponse):  # the server chunks; as Django's handler does
            response.block_size = self.chunk_size
        return response
