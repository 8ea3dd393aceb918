"""The websocket wire format, in one place: statuses, message types, payload shapes and builders.

The database holds the truth; these messages only tell a browser that something changed,
so every payload carries enough (job id, status, step) to update a progress card alone.
Every message is made by one builder here (hand-built dicts drifted from what the browser
read), and the JSON Schema served to clients and tests is generated from the same TypedDicts.
"""

from __future__ import annotations

import time
import types
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict, Union, get_args, get_origin, get_type_hints, is_typeddict


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
    ERROR = "error"  # the consumer's answer to a frame it will not act on (never published)


ErrorCode = Literal["bad_frame", "unknown_type", "rate_limited"]


class ImagePayload(TypedDict):
    id: str
    url: str
    seed: int


class SnapshotEvent(TypedDict):
    type: Literal[EventType.SNAPSHOT]
    job_id: str
    status: JobStatus
    progress: float
    step: int
    total: int
    error: str
    images: list[ImagePayload]
    position: int | None  # 1-based place in line while queued
    eta_seconds: float | None  # None until the workers have measured their speed
    cancel_requested: bool  # a running job stops at its next step: the card says "stopping"


class ProgressEvent(TypedDict):
    type: Literal[EventType.PROGRESS]
    job_id: str
    step: int
    total: int
    progress: float
    sent_at: float  # server clock (epoch seconds): lets a client measure delivery lag


class PreviewEvent(TypedDict):
    type: Literal[EventType.PREVIEW]
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
    type: Literal[EventType.QUEUE]
    jobs: list[QueuePlace]


class FinishedEvent(TypedDict):
    type: Literal[EventType.FINISHED]
    job_id: str
    status: JobStatus
    error: str
    images: list[ImagePayload]
    duration: NotRequired[float]


class ErrorEvent(TypedDict):
    """Sent back for a frame the server will not act on; the socket stays open."""

    type: Literal[EventType.ERROR]
    code: ErrorCode
    detail: str


# What ``publish(owner, event)`` accepts: the events a job's owner is sent through the layer.
JobEvent = SnapshotEvent | ProgressEvent | PreviewEvent | FinishedEvent | QueueEvent
# Everything a browser may receive on /ws/generation/.
ServerEvent = JobEvent | ErrorEvent

EVENT_PAYLOADS: dict[EventType, type[Any]] = {
    EventType.SNAPSHOT: SnapshotEvent,
    EventType.PROGRESS: ProgressEvent,
    EventType.PREVIEW: PreviewEvent,
    EventType.QUEUE: QueueEvent,
    EventType.FINISHED: FinishedEvent,
    EventType.ERROR: ErrorEvent,
}

# The channel-layer message type the consumer handles (dots become underscores: job_event).
CHANNEL_MESSAGE_TYPE = "job.event"


def user_group(user_id: object) -> str:
    """Events go to a per-user group; a shared group once leaked progress between users."""
    return f"generation.user.{user_id}"


# -- builders: the only way an event is made ---------------------------------------------------
def snapshot_event(
    *,
    job_id: str,
    status: JobStatus | str,
    total: int,
    progress: float = 0.0,
    step: int = 0,
    error: str = "",
    images: Iterable[ImagePayload] = (),
    position: int | None = None,
    eta_seconds: float | None = None,
    cancel_requested: bool = False,
) -> SnapshotEvent:
    """The defaults describe a job with no progress yet: just queued, claimed or handed back."""
    return {
        "type": EventType.SNAPSHOT,
        "job_id": job_id,
        "status": JobStatus(status),
        "progress": progress,
        "step": step,
        "total": total,
        "error": error,
        "images": list(images),
        "position": position,
        "eta_seconds": eta_seconds,
        "cancel_requested": cancel_requested,
    }


def progress_event(*, job_id: str, step: int, total: int, progress: float) -> ProgressEvent:
    return {
        "type": EventType.PROGRESS,
        "job_id": job_id,
        "step": step,
        "total": total,
        "progress": progress,
        "sent_at": time.time(),
    }


def preview_event(*, job_id: str, step: int, total: int, image: str, width: int, height: int) -> PreviewEvent:
    return {
        "type": EventType.PREVIEW,
        "job_id": job_id,
        "step": step,
        "total": total,
        "image": image,
        "width": width,
        "height": height,
        "sent_at": time.time(),
    }


def queue_event(*, jobs: Iterable[QueuePlace]) -> QueueEvent:
    return {"type": EventType.QUEUE, "jobs": list(jobs)}


def finished_event(
    *,
    job_id: str,
    status: JobStatus | str,
    error: str = "",
    images: Iterable[ImagePayload] = (),
    duration: float | None = None,
) -> FinishedEvent:
    """``duration`` is known only to the worker that drew the job (not to a queued cancel)."""
    event: FinishedEvent = {
        "type": EventType.FINISHED,
        "job_id": job_id,
        "status": JobStatus(status),
        "error": error,
        "images": list(images),
    }
    if duration is not None:
        event["duration"] = round(duration, 4)
    return event


def error_event(*, code: ErrorCode, detail: str) -> ErrorEvent:
    return {"type": EventType.ERROR, "code": code, "detail": detail}


# -- JSON Schema, generated from the TypedDicts above -------------------------------------------
def event_schemas() -> dict[str, Any]:
    """One JSON Schema (draft 2020-12) per event type, keyed by the type string. Built from the
    same TypedDicts the builders return, so the schema cannot drift from what is sent."""
    return {event_type.value: _typed_dict_schema(payload) for event_type, payload in EVENT_PAYLOADS.items()}


def events_schema() -> dict[str, Any]:
    """The document served at ``/api/v1/events/schema.json``: any message is one of the events."""
    schemas = event_schemas()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Wee-Waa websocket events (/ws/generation/)",
        "oneOf": [{"$ref": f"#/$defs/{name}"} for name in schemas],
        "$defs": schemas,
    }


def _typed_dict_schema(payload: type[Any]) -> dict[str, Any]:
    hints = get_type_hints(payload, include_extras=True)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, hint in hints.items():
        if get_origin(hint) is NotRequired:
            hint = get_args(hint)[0]
        else:
            required.append(name)
        properties[name] = _schema(hint)
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _schema(hint: Any) -> dict[str, Any]:
    origin = get_origin(hint)
    if hint is str:
        return {"type": "string"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return {"type": "number"}
    if hint is type(None):
        return {"type": "null"}
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return {"type": "string", "enum": [member.value for member in hint]}
    if is_typeddict(hint):
        return _typed_dict_schema(hint)
    if origin is Literal:
        return {"enum": [value.value if isinstance(value, StrEnum) else value for value in get_args(hint)]}
    if origin is list:
        return {"type": "array", "items": _schema(get_args(hint)[0])}
    if origin in (Union, types.UnionType):
        return {"anyOf": [_schema(arg) for arg in get_args(hint)]}
    raise TypeError(f"No JSON Schema for {hint!r}")
