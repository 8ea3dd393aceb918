"""The small shapes the manager passes between its collaborators."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image

    from generation.events import JobEvent

# Width, height, steps, guidance, variant. Jobs with equal keys can share one pipeline call: the
# tensors have one shape and the scheduler one timestep schedule; prompts, seeds, sources and
# masks are per image. The variant (``batch_variant``) keeps apart what must not share a call:
# the kind of job, an edit's strength, and the style's LoRA adapter and its weight.
BatchKey = tuple[int, int, int, float, str]

# The primary key of the job's owner: events go to that user's group, and nothing else of the
# user reaches the manager.
OwnerId = int


class JobKind(StrEnum):
    DRAW = "draw"  # text to image
    EDIT = "edit"  # image to image: the source picture, changed as the prompt says
    INPAINT = "inpaint"  # image to image inside a painted mask; the rest stays as it was


@dataclass(frozen=True)
class AdapterRef:
    """A style's LoRA adapter as one job uses it. ``key`` names the adapter inside the
    pipeline (one per file content), ``path`` is a local ``.safetensors`` file."""

    key: str
    path: str
    sha256: str
    weight: float
    name: str = ""


def batch_variant(kind: str, strength: float | None = None, adapter_key: str = "", adapter_weight: float = 1.0) -> str:
    """The part of the batch key beyond size, steps and guidance; "" for a plain drawing with
    no adapter, so every job queued before edits and adapters existed still batches together."""
    parts = [] if kind == JobKind.DRAW else [f"{kind}:{strength if strength is not None else 1.0:.2f}"]
    if adapter_key:
        parts.append(f"lora:{adapter_key}@{adapter_weight:.2f}")
    return "|".join(parts)


class JobLost(Exception):
    """The store no longer lets this worker finish the job: its lease lapsed and another
    worker holds it now (or it was cancelled meanwhile)."""


def job_work(count: int, width: int, height: int, steps: int) -> float:
    return count * width * height * steps / 1e6


@dataclass(frozen=True)
class JobSpec:
    """Everything the pipeline needs for one job, detached from the ORM row."""

    id: str
    owner_id: OwnerId
    prompt: str
    negative_prompt: str
    seed: int
    steps: int
    guidance_scale: float
    width: int
    height: int
    count: int
    created_at: datetime | None = None
    kind: str = JobKind.DRAW
    # Edits: how much of the source may change (0 keeps it, 1 ignores it), the source picture
    # (RGB, at the job's size) and, for inpainting, the mask (L, white = change).
    strength: float = 1.0
    source: Image | None = field(default=None, compare=False, repr=False)
    mask: Image | None = field(default=None, compare=False, repr=False)
    adapter: AdapterRef | None = None
    variant: str = ""

    @property
    def key(self) -> BatchKey:
        return (self.width, self.height, self.steps, self.guidance_scale, self.variant)

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


class ModelState(StrEnum):
    STOPPED = "stopped"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"
    EXTERNAL = "external"  # the model runs in worker processes; this one only serves the web


@dataclass
class ModelStatus:
    """What /healthz and the studio notice report about the model."""

    state: ModelState = ModelState.STOPPED
    model: str = ""
    requested_model: str = ""
    device: str = ""
    demo: bool = False
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return self.state == ModelState.READY


class AdapterSwitch(Protocol):
    """Makes one style's LoRA adapter (or none) the active one on the resident pipeline."""

    def activate(self, adapter: AdapterRef | None) -> None: ...


class Trainer(Protocol):
    """A style training that borrows the device while no job waits (``manager/training_runner.py``)."""

    def step_some(self, pipeline: Any, budget_seconds: float, jobs_waiting: Callable[[], bool]) -> bool: ...

    def stop(self) -> None: ...


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

    def text_windows(self, job: JobSpec) -> int:
        """How many text-encoder windows the job's prompts fill (1 unless a prompt is longer
        than the encoder reads at once). Jobs that differ draw in separate calls, so a job draws
        the same picture whoever it shares a call with."""
        ...


class Loader(Protocol):
    model: str

    def load(self) -> tuple[Pipeline, ModelStatus]: ...


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

    def close(self) -> None:
        """Called by each manager thread as it ends: drop what it holds (a database connection)."""


class EventPublisher(Protocol):
    def publish(self, owner_id: OwnerId, event: JobEvent) -> None: ...


class Metrics(Protocol):
    def job_finished(self, status: str, duration: float) -> None: ...

    def job_waited(self, seconds: float) -> None: ...

    def batch_ran(self, images: int, seconds: float) -> None: ...

    def first_preview(self, seconds: float) -> None: ...

    def failure(self, reason: str) -> None: ...

    def throughput(self, images_per_second: float) -> None: ...

    def manager_state(self, alive: bool, restarted: bool = False) -> None: ...

    def model_state(self, status: ModelStatus) -> None: ...


class NullMetrics:
    def job_finished(self, status: str, duration: float) -> None:
        pass

    def job_waited(self, seconds: float) -> None:
        pass

    def batch_ran(self, images: int, seconds: float) -> None:
        pass

    def first_preview(self, seconds: float) -> None:
        pass

    def failure(self, reason: str) -> None:
        pass

    def throughput(self, images_per_second: float) -> None:
        pass

    def manager_state(self, alive: bool, restarted: bool = False) -> None:
        pass

    def model_state(self, status: ModelStatus) -> None:
        pass
