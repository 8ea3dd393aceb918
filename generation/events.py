"""The websocket wire format, in one place: statuses, message types and payload shapes.

The database holds the truth; these messages only tell a browser that something changed,
so every payload carries enough (job id, status, step) to update a progress card alone.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal, NotRequired, TypedDict


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(status.value, status.value.capitalize()) for status in cls]

    @classmethod
    def final(cls) -> frozenset[str]:
        return frozenset({cls.SUCCEEDED, cls.FAILED, cls.CANCELLED})


class EventType(StrEnum):
    SNAPSHOT = "job.snapshot"  # full state of one job (on connect, and on status changes)
    PROGRESS = "job.progress"  # one denoising step done
    FINISHED = "job.finished"  # the last message of a job
    PREVIEW = "job.preview"  # a small picture of the latents while drawing
    QUEUE = "job.queue"  # places in line and ETAs of one user's queued jobs


class ImagePayload(TypedDict):
    id: str
    url: str
    seed: int


class SnapshotEvent(TypedDict):
    type: Literal["job.snapshot"]
    job_id: str
    status: str
    progress: float
    step: int
    total: int
    error: str
    images: list[ImagePayload]
    position: int | None  # 1-based place in line while queued
    eta_seconds: float | None  # None until the workers have measured their speed


class ProgressEvent(TypedDict):
    type: Literal["job.progress"]
    job_id: str
    step: int
    total: int
    progress: float
    sent_at: float  # server clock (epoch seconds): lets a client measure delivery lag


class PreviewEvent(TypedDict):
    type: Literal["job.preview"]
    job_id: str
    step: int
    total: int
    image: str  # data:image/jpeg;base64,…
    width: int
    height: int
    sent_at: float


class QueuePlace(TypedDict):
    job_id: str
    position: int
    eta_seconds: float | None


class QueueEvent(TypedDict):
    type: Literal["job.queue"]
    jobs: list[QueuePlace]


class FinishedEvent(TypedDict):
    type: Literal["job.finished"]
    job_id: str
    status: str
    error: str
    images: list[ImagePayload]
    duration: NotRequired[float]


JobEvent = SnapshotEvent | ProgressEvent | PreviewEvent | FinishedEvent | QueueEvent

# The channel-layer message type the consumer handles (dots become underscores: job_event).
CHANNEL_MESSAGE_TYPE = "job.event"


def user_group(user_id: object) -> str:
    """Events go to a per-user group; a shared group once leaked progress between users."""
    return f"generation.user.{user_id}"
