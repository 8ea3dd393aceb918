"""The ASGI entry point: HTTP, websockets, and this process's generation runtime.

The runtime (model manager, event publisher, queue announcer) is built when the server starts,
on the server's own loop, and stopped when it shuts down, so the model loads while the first
page is still being requested and a job being drawn at shutdown goes back to the queue:
- servers that speak the ASGI lifespan protocol (uvicorn, hypercorn): ``lifespan`` below;
- daphne (``manage.py serve``, ``runserver``) has no lifespan protocol: its reactor's start and
  shutdown hooks do the same;
- any other server: the first connection starts it, and interpreter exit stops it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wee_waa.settings")
django.setup(set_prefix=False)  # what get_asgi_application() does, before our handler loads

from django.conf import settings  # noqa: E402

from wee_waa.handler import ThreadPoolHandler  # noqa: E402

django_asgi_app = ThreadPoolHandler(settings.WEE_WAA_HTTP_THREADS)

from channels.routing import ProtocolTypeRouter  # noqa: E402 - needs the apps loaded above

from generation import runtime  # noqa: E402
from wee_waa.routing import websocket_application  # noqa: E402

logger = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Any
Send = Any

router = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application()})
_started = False


async def lifespan(receive: Receive, send: Send) -> None:
    """Start the runtime on the server's loop; stop it at shutdown in a thread, so the loop
    keeps delivering the last events (a job handed back) while the manager stops."""
    global _started
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            try:
                runtime.start_server_runtime(asyncio.get_running_loop())
            except Exception as exc:
                logger.exception("The generation runtime did not start")
                await send({"type": "lifespan.startup.failed", "message": str(exc)})
                return
            _started = True
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await asyncio.to_thread(runtime.stop_server_runtime)
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope: Scope, receive: Receive, send: Send) -> None:
    global _started
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    if not _started:  # a server that announced no start (lifespan or daphne's): first connection
        _started = True
        logger.warning("The server announced no start: the generation runtime starts on the first connection")
        runtime.start_server_runtime(asyncio.get_running_loop())
        runtime.stop_at_exit()
    await router(scope, receive, send)


def _hook_daphne() -> None:
    """Daphne's reactor (installed whenever the ``daphne`` app is) fires these only if it runs,
    that is when daphne is the server; under any other server they never fire."""
    from twisted.internet import threads
    from twisted.internet.reactor import (  # type: ignore[attr-defined]  # zope interfaces confuse mypy
        addSystemEventTrigger,
        callLater,
    )

    def start() -> None:
        global _started
        _started = True
        runtime.start_server_runtime(asyncio.get_running_loop())

    # Scheduled on the asyncio loop under the reactor, so it runs on that loop once it turns.
    callLater(0, start)
    # "before" shutdown: the loop still runs, so the manager's last events still go out.
    stop = lambda: threads.deferToThread(runtime.stop_server_runtime)  # noqa: E731
    addSystemEventTrigger("before", "shutdown", stop)


if "daphne.server" in sys.modules:
    _hook_daphne()
