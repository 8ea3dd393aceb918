"""The per-user progress stream (/ws/generation/)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from generation.events import user_group
from generation.manager.publisher import remember_server_loop
from generation.selectors import unfinished_job_snapshots

CLOSE_UNAUTHENTICATED = 4401


class GenerationConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Authenticate, join the user's own group, send the open jobs' state, relay events."""

    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        remember_server_loop()
        self.group = user_group(user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self._send_snapshots()

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Messages can be dropped; a client that suspects so asks for the truth again.
        if isinstance(content, dict) and content.get("type") == "jobs.sync":
            await self._send_snapshots()

    async def job_event(self, message: dict[str, Any]) -> None:
        await self.send_json(message["event"])

    async def _send_snapshots(self) -> None:
        for snapshot in await database_sync_to_async(unfinished_job_snapshots)(self.scope["user"]):
            await self.send_json(snapshot)
