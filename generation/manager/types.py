"""The small shapes the manager passes between its collaborators."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True)
class JobSpec:
    """Everything the pipeline needs for one job, detached from the ORM row."""

    id: str
    owner_id: Any
    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    guidance_scale: float
    width: int
    height: int
    count: int

    def seeds(self) -> list[int]:
        return [self.seed + index for index in range(self.count)]


@dataclass(frozen=True)
class StoredImage:
    id: str
    url: str
    seed: int


@dataclass
class ModelStatus:
    """What /healthz and the studio notice report about the model."""

    state: str = "stopped"  # stopped | loading | ready | failed
    model: str = ""
    requested_model: str = ""
    device: str = ""
    demo: bool = False
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return self.state == "ready"


StepCallback = Callable[[int, int], None]  # (step done, total steps)


class Pipeline(Protocol):
    """A loaded, resident pipeline; ``generate`` runs one job's images."""

    name: str
    device: str

    def generate(self, spec: JobSpec, on_step: StepCallback) -> list[Image]: ...


class JobStore(Protocol):
    def requeue_orphans(self, max_attempts: int) -> tuple[list[str], list[str]]: ...

    def claim_next(self) -> JobSpec | None: ...

    def record_progress(self, job_id: str, progress: float) -> None: ...

    def succeed(self, spec: JobSpec, images: list[Image], model_name: str) -> list[StoredImage]: ...

    def fail(self, job_id: str, reason: str) -> None: ...

    def release(self, job_id: str) -> None: ...


class EventPublisher(Protocol):
    def publish(self, owner_id: Any, event: dict[str, Any]) -> None: ...
