"""Style trainings as queued work on the worker that owns the model.

Drawing comes first: the worker calls ``step_some`` only when it has no batch to draw (or
between batches), with a small time budget, and training stops early as soon as a generation
job waits. So a training never holds the device while users wait longer than one training step,
and it makes progress whenever the queue is idle. The store is the queue (a run is claimed with
a lease like a job); a run whose worker died is claimed again and resumes its last checkpoint.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from generation.manager.training import LoraTrainer, TrainingExample, TrainingSettings

if TYPE_CHECKING:
    from PIL.Image import Image

logger = logging.getLogger(__name__)


@dataclass
class TrainingTask:
    id: str
    examples: list[TrainingExample]
    settings: TrainingSettings
    checkpoint_dir: Path
    output_dir: Path
    preview_prompt: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class TrainingStore(Protocol):
    def claim(self, worker: str, lease_seconds: float) -> TrainingTask | None:
        """A queued run, or one whose worker's lease ran out; None when there is none."""
        ...

    def report(self, task_id: str, worker: str, step: int, losses: list[float], lease_seconds: float) -> bool:
        """Records progress and renews the lease; False when the run should stop (cancelled, or
        another worker holds it now)."""
        ...

    def succeed(self, task_id: str, worker: str, adapter: Path, preview: Image | None) -> None: ...

    def fail(self, task_id: str, worker: str, reason: str) -> None: ...

    def cancelled(self, task_id: str, worker: str) -> None: ...


class TrainingRunner:
    """Runs at most one training at a time, a slice per ``step_some`` call."""

    def __init__(
        self, store: TrainingStore, worker: str, lease_seconds: float = 120.0, report_seconds: float = 0.5
    ) -> None:
        self.store = store
        self.worker = worker
        self.lease_seconds = lease_seconds
        self.report_seconds = report_seconds
        self.task: TrainingTask | None = None
        self.trainer: LoraTrainer | None = None
        self._last_report = 0.0
        self._pipe: Any = None

    @property
    def busy(self) -> bool:
        return self.task is not None

    def step_some(
        self, pipeline: Any, budget_seconds: float = 2.0, jobs_waiting: Callable[[], bool] | None = None
    ) -> bool:
        """Trains for up to ``budget_seconds`` (at least one step), less if ``jobs_waiting()``
        turns true; returns whether there was training to do. ``pipeline`` is the manager's
        ``DiffusersPipeline`` (or a diffusers pipeline itself)."""
        pipe = getattr(pipeline, "pipe", pipeline)
        if self.task is None and not self._claim(pipe):
            return False
        task, trainer = self.task, self.trainer
        assert task is not None and trainer is not None
        try:
            outcome = trainer.run_steps(
                budget_seconds=budget_seconds,
                should_yield=jobs_waiting,
                on_step=lambda step, total, loss: self._on_step(task, trainer),
            )
            if outcome == "done":
                self._finish(task, trainer)
            elif outcome == "cancelled":
                logger.info("Style training %s stopped at step %s", task.id, trainer.state.step)
                self._end()
                self.store.cancelled(task.id, self.worker)
        except Exception as error:  # the run fails; the worker and its drawing go on
            logger.exception("Style training %s failed", task.id)
            self._end()
            self.store.fail(task.id, self.worker, f"{type(error).__name__}: {error}"[:500])
        return True

    def stop(self) -> None:
        """The worker is stopping: drop the run without a verdict. Its lease runs out and the
        next worker to claim it resumes the last checkpoint."""
        self._end()

    def _claim(self, pipe: Any) -> bool:
        task = self.store.claim(self.worker, self.lease_seconds)
        if task is None:
            return False
        self.task, self._pipe = task, pipe
        self.trainer = LoraTrainer(pipe, task.examples, task.settings, task.checkpoint_dir)
        try:
            self.trainer.prepare()  # resumes the last checkpoint, if this machine has one
        except Exception as error:
            logger.exception("Style training %s could not start", task.id)
            self._end()
            self.store.fail(task.id, self.worker, f"{type(error).__name__}: {error}"[:500])
            return False
        self._last_report = 0.0
        return True

    def _on_step(self, task: TrainingTask, trainer: LoraTrainer) -> bool:
        """True stops the run: reported at most every ``report_seconds`` (and at checkpoints and
        the end), so the database is not written every step of a fast model."""
        now = time.monotonic()
        step = trainer.state.step
        due = step % task.settings.checkpoint_every == 0 or trainer.done
        if not due and now - self._last_report < self.report_seconds:
            return False
        self._last_report = now
        return not self.store.report(task.id, self.worker, step, list(trainer.state.losses), self.lease_seconds)

    def _finish(self, task: TrainingTask, trainer: LoraTrainer) -> None:
        adapter = trainer.export(task.output_dir)
        preview = self._preview(task, trainer)
        self._end()
        self.store.succeed(task.id, self.worker, adapter, preview)

    def _preview(self, task: TrainingTask, trainer: LoraTrainer) -> Image | None:
        """A first picture in the new style, so staff see what it does before enabling it."""
        if not task.preview_prompt:
            return None
        import torch

        trainer.attach()
        try:
            with torch.inference_mode():
                result = self._pipe(
                    prompt=task.preview_prompt,
                    num_inference_steps=4,
                    guidance_scale=0.0,
                    width=task.settings.resolution,
                    height=task.settings.resolution,
                    generator=torch.Generator(device="cpu").manual_seed(task.settings.seed),
                    output_type="pil",
                )
            image: Image = result.images[0]
            return image
        except Exception:
            logger.exception("Preview of style training %s failed", task.id)
            return None
        finally:
            trainer.detach()

    def _end(self) -> None:
        if self.trainer is not None:
            self.trainer.close()
        self.task = None
        self.trainer = None
        self._pipe = None
