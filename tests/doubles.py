"""Stand-ins for the manager's collaborators, for tests that watch it directly."""

from __future__ import annotations

from typing import Any

from generation.events import JobEvent
from generation.manager.types import OwnerId


class RecordingPublisher:
    """Keeps every event in order, with its owner, instead of sending it anywhere."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, JobEvent]] = []

    def publish(self, owner_id: OwnerId, event: JobEvent) -> None:
        self.events.append((owner_id, event))
