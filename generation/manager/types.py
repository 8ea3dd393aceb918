"""The small shapes the manager passes between its collaborators."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image

    from generation.events import JobEvent

# Width, height, steps, guidance. Jobs with equal keys can share one pipeline call: the tensors
# have one shape and the scheduler one timestep schedule; prompts and seeds are per image.
BatchKey = tuple[int, int, int, float]


def job_work(count: int, width: int, height: int, steps: int) -> float:
    return count * width * height * steps / 1e6


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
    created_at: datetime | None = None

    def seeds(self) -> list[int]:
        return [self.seed + index for index in range(self.count)]

    @property
    def work(self) -> float:
        """Megapixel-steps: what the pipeline's cost grows with."""
        return job_work(self.count, self.width, self.height, self.steps)


@dataclass(frozen=True)
class Slot:
    """One image to draw: a job's n-th candidate, with its own seed."""

    job: JobSpec
    index: int

    @property
    def seed(self) -> int:
        return self.job.seed + self.index


@dataclass(frozen=True)
class StoredImage:
    id: str
    url: str
    seed: int


@dataclass
class ModelStatus:
    """What /healthz and the studio notice report about the model."""

    state: str = "stopped"  # stopped | loading | ready | failed | external
    model: str = ""
    requested_model: str = ""
    device: str = ""
    demo: bool = False
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return self.state == "ready"


class PreviewSource(Protocol):
    """The latents of the step just done; decoding costs time, so only asked-for images are."""

    def previews(self, indices: Sequence[int]) -> list[Image]: ...


# (step done, total steps, previews of this step) → True to stop the pipeline early.
StepCallback = Callable[[int, int, PreviewSource], bool]


class Pipeline(Protocol):
    """A loaded, resident pipeline; ``generate`` draws a batch of images in one call."""

    name: str
    device: str

    def generate(self, slots: Sequence[Slot], on_step: StepCallback) -> list[Image]: ...


class JobStore(Protocol):
    def recover(self, max_attempts: int) -> tuple[list[str], list[str]]: ...

    def claim_batch(self, worker: str, max_images: int, lease_seconds: float) -> list[JobSpec]: ...

    def heartbeat(self, worker: str, job_ids: Sequence[str], lease_seconds: float) -> tuple[set[str], set[str]]: ...

    def record_progress(self, worker: str, job_ids: Sequence[str], progress: float) -> None: ...

    def succeed(self, spec: JobSpec, images: list[Image], model_name: str, worker: str) -> list[StoredImage]: ...

    def fail(self, job_id: str, reason: str, worker: str | None = None) -> None: ...

    def cancel(self, job_id: str, worker: str) -> bool: ...

    def release(self, job_id: str, worker: str) -> None: ...

    def abandon(self, worker: str, job_ids: Sequence[str], max_attempts: int) -> None: ...

    def report_worker(self, worker: str, fields: dict[str, Any]) -> None: ...

    def forget_worker(self, worker: str) -> None: ...


class EventPublisher(Protocol):
    def publish(self, owner_id: Any, event: JobEvent) -> None: ...
