"""Training a style from staff's own pictures: the run's row, its queue, and the result.

A run is created with its pictures checked like character uploads (``gallery.uploads``) and
queued; the worker that owns the model trains it between batches (``manager.training_runner``)
through ``DjangoTrainingStore``; success makes a new, disabled ``Style`` with the adapter.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallery.uploads import validate_image_upload
from generation.manager.tiny import TINY_MODEL_NAME
from generation.manager.training import ALL_LAYERS, ATTENTION_PROJECTIONS, TrainingExample, TrainingSettings
from generation.manager.training_runner import TrainingTask
from generation.models import Style, StyleTraining, StyleTrainingImage
from generation.style_adapters import file_sha256

if TYPE_CHECKING:
    from PIL.Image import Image

    from accounts.models import User

MIN_IMAGES = 10
MAX_IMAGES = 200
ACTIVE = (StyleTraining.Status.QUEUED, StyleTraining.Status.RUNNING)


def default_caption(name: str, trigger_word: str) -> str:
    return f"{name}, {trigger_word}" if trigger_word else name


def default_resolution(model: str | None = None) -> int:
    """The model's native size: 64 px for the tiny offline model, 512 px otherwise."""
    return 64 if (model or settings.WEE_WAA_MODEL) == TINY_MODEL_NAME else 512


def checkpoint_root() -> Path:
    return Path(settings.WEE_WAA_MODEL_CACHE) / "style-training"


def validate_training_images(files: Sequence[Any]) -> None:
    """Every picture checked by content, and how many: one bad picture refuses them all, so
    nothing is half-stored."""
    if not MIN_IMAGES <= len(files) <= MAX_IMAGES:
        raise ValidationError(
            _("Upload between %(low)s and %(high)s pictures (this was %(count)s)."),
            code="count",
            params={"low": MIN_IMAGES, "high": MAX_IMAGES, "count": len(files)},
        )
    errors = []
    for upload in files:
        try:
            validate_image_upload(upload)
        except ValidationError as error:
            errors.append(
                ValidationError(
                    _("%(file)s: %(reason)s"),
                    code="bad_image",
                    params={"file": getattr(upload, "name", "?"), "reason": " ".join(error.messages)},
                )
            )
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def style_training_create(
    *,
    name: str,
    files: Sequence[Any],
    captions: Sequence[str] = (),
    trigger_word: str = "",
    description: str = "",
    steps: int = 500,
    rank: int = 4,
    learning_rate: float = 1e-4,
    resolution: int | None = None,
    seed: int = 0,
    layers: str = "attention",
    created_by: User | None = None,
) -> StyleTraining:
    """Queues a training run. ``captions`` pair with ``files`` in order; a missing or empty one
    becomes the default caption (the style's name and trigger word)."""
    validate_training_images(files)
    run = StyleTraining.objects.create(
        name=name,
        trigger_word=trigger_word,
        description=description,
        base_model=settings.WEE_WAA_MODEL,
        steps=steps,
        rank=rank,
        learning_rate=learning_rate,
        resolution=resolution or default_resolution(),
        seed=seed,
        layers=layers,
        created_by=created_by,
    )
    run.checkpoint_path = str(checkpoint_root() / run.id)
    run.save(update_fields=["checkpoint_path"])
    fallback = default_caption(name, trigger_word)
    for index, upload in enumerate(files):
        caption = captions[index].strip() if index < len(captions) else ""
        upload.seek(0)
        StyleTrainingImage.objects.create(
            training=run, image=File(upload, name=Path(upload.name).name), caption=caption or fallback
        )
    return run


def style_training_cancel(run: StyleTraining) -> None:
    """A queued run stops at once; a running one at its worker's next report."""
    StyleTraining.objects.filter(pk=run.pk, status=StyleTraining.Status.QUEUED).update(
        status=StyleTraining.Status.CANCELLED, cancel_requested=True, finished_at=timezone.now()
    )
    StyleTraining.objects.filter(pk=run.pk, status=StyleTraining.Status.RUNNING).update(cancel_requested=True)


def training_progress(run: StyleTraining, points: int = 200) -> dict[str, Any]:
    """What the admin page polls: status, step, and the loss curve thinned to ``points``
    (averaged, so the plot stays small however long the run)."""
    losses = [float(value) for value in run.losses]
    if len(losses) > points:
        size = len(losses) / points
        losses = [
            sum(chunk) / len(chunk)
            for chunk in (losses[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)] for i in range(points))
        ]
    return {
        "id": run.id,
        "status": run.status,
        "status_label": str(run.get_status_display()),
        "step": run.step,
        "steps": run.steps,
        "progress": run.progress,
        "losses": [round(value, 5) for value in losses],
        "last_loss": float(run.losses[-1]) if run.losses else None,
        "error": run.error,
        "cancel_requested": run.cancel_requested,
        "style_id": run.result_id,
    }


def _open_examples(run: StyleTraining) -> list[TrainingExample]:
    from PIL import Image as PILImage

    examples = []
    for row in run.images.all():
        with row.image.open("rb") as handle, PILImage.open(handle) as image:
            examples.append(TrainingExample(image=image.convert("RGB"), caption=row.caption))
    return examples


class DjangoTrainingStore:
    """The ``TrainingStore`` over ``StyleTraining`` rows; claims are atomic like job claims."""

    def claim(self, worker: str, lease_seconds: float) -> TrainingTask | None:
        now = timezone.now()
        claimable = Q(status=StyleTraining.Status.QUEUED) | Q(
            status=StyleTraining.Status.RUNNING, lease_expires_at__lt=now
        )
        for run in StyleTraining.objects.filter(claimable, cancel_requested=False).order_by("created_at", "id")[:5]:
            taken = StyleTraining.objects.filter(claimable, pk=run.pk, cancel_requested=False).update(
                status=StyleTraining.Status.RUNNING,
                worker=worker,
                lease_expires_at=now + timedelta(seconds=lease_seconds),
                started_at=run.started_at or now,
            )
            if taken:
                run.refresh_from_db()
                return TrainingTask(
                    id=run.id,
                    examples=_open_examples(run),
                    settings=TrainingSettings(
                        steps=run.steps,
                        rank=run.rank,
                        learning_rate=run.learning_rate,
                        resolution=run.resolution,
                        seed=run.seed,
                        target_modules=ALL_LAYERS if run.layers == "all" else tuple(ATTENTION_PROJECTIONS),
                        checkpoint_every=settings.WEE_WAA_STYLE_CHECKPOINT_EVERY,
                    ),
                    checkpoint_dir=Path(run.checkpoint_path or checkpoint_root() / run.id),
                    output_dir=Path(run.checkpoint_path or checkpoint_root() / run.id) / "result",
                    preview_prompt=default_caption(run.name, run.trigger_word),
                )
        return None

    def report(self, task_id: str, worker: str, step: int, losses: list[float], lease_seconds: float) -> bool:
        updated = StyleTraining.objects.filter(
            pk=task_id, worker=worker, status=StyleTraining.Status.RUNNING, cancel_requested=False
        ).update(step=step, losses=losses, lease_expires_at=timezone.now() + timedelta(seconds=lease_seconds))
        return bool(updated)

    def succeed(self, task_id: str, worker: str, adapter: Path, preview: Image | None) -> None:
        with transaction.atomic():
            run = StyleTraining.objects.select_for_update().get(pk=task_id)
            if run.worker != worker or run.status != StyleTraining.Status.RUNNING:
                return
            style = Style(
                name=_unique_style_name(run.name),
                description=run.description,
                prompt_template=f"{{prompt}}, {run.trigger_word}" if run.trigger_word else "{prompt}",
                base_model=run.base_model,
                is_active=False,
                default_width=run.resolution,
                default_height=run.resolution,
            )
            with adapter.open("rb") as handle:
                style.lora_sha256 = file_sha256(handle)
                style.lora.save(f"{run.id}.safetensors", File(handle), save=False)
            if preview is not None:
                import io

                buffer = io.BytesIO()
                preview.save(buffer, format="PNG")
                style.preview.save(f"{run.id}.png", ContentFile(buffer.getvalue()), save=False)
            style.save()
            run.result = style
            run.status = StyleTraining.Status.SUCCEEDED
            run.finished_at = timezone.now()
            run.lease_expires_at = None
            run.save(update_fields=["result", "status", "finished_at", "lease_expires_at"])
        _remove_checkpoints(run)

    def fail(self, task_id: str, worker: str, reason: str) -> None:
        StyleTraining.objects.filter(pk=task_id, worker=worker).update(
            status=StyleTraining.Status.FAILED, error=reason, finished_at=timezone.now(), lease_expires_at=None
        )

    def cancelled(self, task_id: str, worker: str) -> None:
        StyleTraining.objects.filter(pk=task_id, worker=worker, cancel_requested=True).update(
            status=StyleTraining.Status.CANCELLED, finished_at=timezone.now(), lease_expires_at=None
        )
        run = StyleTraining.objects.filter(pk=task_id, status=StyleTraining.Status.CANCELLED).first()
        if run is not None:
            _remove_checkpoints(run)


def _remove_checkpoints(run: StyleTraining) -> None:
    if run.checkpoint_path and Path(run.checkpoint_path).is_relative_to(checkpoint_root()):
        shutil.rmtree(run.checkpoint_path, ignore_errors=True)


def _unique_style_name(name: str) -> str:
    candidate, number = name, 2
    while Style.objects.filter(name=candidate).exists():
        candidate = f"{name[:70]} ({number})"
        number += 1
    return candidate
