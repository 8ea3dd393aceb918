"""How a batch's jobs end: failure reasons a person can read, out-of-memory told apart by
exception type, the payloads of finished events, and the result write (one transaction per
batch where the store can).

Kept apart from ``batch`` so the drawing loop reads on its own; nothing here touches torch
unless torch is already loaded.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from generation.events import ImagePayload, JobStatus, SnapshotEvent, snapshot_event
from generation.manager.types import JobSpec, JobStore, StoredImage

if TYPE_CHECKING:
    from PIL.Image import Image

OOM_MESSAGE = "The graphics card ran out of memory. Try a smaller size or fewer candidates."


def out_of_memory_types() -> tuple[type[BaseException], ...]:
    """Torch's out-of-memory errors, if torch is loaded (the manager core never imports it)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return ()
    found = [getattr(torch, "OutOfMemoryError", None), getattr(getattr(torch, "cuda", None), "OutOfMemoryError", None)]
    return tuple(kind for kind in found if isinstance(kind, type))


def is_out_of_memory(exc: BaseException) -> bool:
    """By the exception's type, never its text: a prompt or a file name saying "out of memory"
    must not turn a failure into a batch split. ``torch.OutOfMemoryError`` (also
    ``torch.cuda.OutOfMemoryError``) on any device; a class of that name from elsewhere counts."""
    kinds = out_of_memory_types()
    if kinds and isinstance(exc, kinds):
        return True
    return any(cls.__name__ == "OutOfMemoryError" for cls in type(exc).__mro__)


def describe_failure(exc: BaseException) -> str:
    """A reason a person can read in the studio, not a traceback."""
    if is_out_of_memory(exc):
        return OOM_MESSAGE
    text = str(exc).strip() or exc.__class__.__name__
    return f"The model failed while drawing: {text}"[:500]


def images_payload(images: list[StoredImage]) -> list[ImagePayload]:
    return [{"id": image.id, "url": image.url, "seed": image.seed} for image in images]


def fresh_snapshot(spec: JobSpec, status: JobStatus) -> SnapshotEvent:
    """The state of a job that has no progress yet: just claimed, or handed back."""
    return snapshot_event(job_id=spec.id, status=status, total=spec.steps)


def succeed_all(
    store: JobStore, finished: list[tuple[JobSpec, list[Image]]], model_name: str, worker: str
) -> list[list[StoredImage] | BaseException]:
    """One transaction for the lot when the store can (``succeed_batch``), else one per job."""
    batch_write = getattr(store, "succeed_batch", None)
    if callable(batch_write):
        outcomes: list[list[StoredImage] | BaseException] = batch_write(finished, model_name, worker)
        return outcomes
    answers: list[list[StoredImage] | BaseException] = []
    for spec, images in finished:
        try:
            answers.append(store.succeed(spec, images, model_name, worker))
        except Exception as exc:  # noqa: BLE001 - pinned on this job alone
            answers.append(exc)
    return answers
