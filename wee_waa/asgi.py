"""The ASGI entry point for daphne: HTTP, websockets, and this process's model manager."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wee_waa.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter  # noqa: E402 - needs the apps loaded above

from generation.runtime import start_in_process  # noqa: E402
from wee_waa.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({"http": django_asgi_app, "websocket": websocket_application()})

# The manager starts with the server (this module is imported only by daphne), so the model
# loads while the first page is still being requested, not on the first job.
start_in_process()
