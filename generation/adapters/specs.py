"""A job row as the manager sees it: plain values, with an edit's pictures already opened and a
style's adapter file resolved to a local path, so nothing in the manager reaches for Django."""

from __future__ import annotations

from typing import TYPE_CHECKING

from generation.manager.types import AdapterRef, JobKind, JobSpec
from generation.models import GenerationJob

if TYPE_CHECKING:
    from django.db.models.fields.files import FieldFile
    from PIL.Image import Image


def _open_image(field: FieldFile, mode: str, size: tuple[int, int]) -> Image | None:
    """The stored picture at the job's size; None when there is no file (the source was
    deleted and the job kept no copy): the pipeline then fails that job with a reason."""
    from PIL import Image as PILImage

    if not field:
        return None
    with field.open("rb") as handle, PILImage.open(handle) as image:
        picture = image.convert(mode)
    if picture.size != size:
        picture = picture.resize(size, PILImage.Resampling.LANCZOS)
    return picture


def _source_field(job: GenerationJob) -> FieldFile | None:
    own: FieldFile = job.source_file
    if own:
        return own
    if job.source_image is None:
        return None
    original: FieldFile = job.source_image.image
    return original


def adapter_ref(snapshot: dict[str, object]) -> AdapterRef | None:
    """The adapter a job was queued with (``GenerationJob.adapter``), or None."""
    if not snapshot or not snapshot.get("key"):
        return None
    from generation.style_files import local_adapter_path  # the file may live on S3: fetched once

    return AdapterRef(
        key=str(snapshot["key"]),
        path=str(local_adapter_path(str(snapshot["file"]), str(snapshot["sha256"]))),
        sha256=str(snapshot["sha256"]),
        weight=float(snapshot.get("weight", 1.0)),  # type: ignore[arg-type]
        name=str(snapshot.get("name", "")),
    )


def job_spec(job: GenerationJob) -> JobSpec:
    size = (job.width, job.height)
    edit = job.kind != JobKind.DRAW
    source_field = _source_field(job) if edit else None
    return JobSpec(
        id=job.id,
        owner_id=job.owner_id,
        prompt=job.full_prompt,
        negative_prompt=job.negative_prompt,
        seed=job.seed,
        steps=job.steps,
        guidance_scale=job.guidance_scale,
        width=job.width,
        height=job.height,
        count=job.count,
        created_at=job.created_at,
        kind=job.kind,
        strength=job.strength if job.strength is not None else 1.0,
        source=_open_image(source_field, "RGB", size) if source_field is not None else None,
        mask=_open_image(job.mask, "L", size) if job.kind == JobKind.INPAINT else None,
        adapter=adapter_ref(job.adapter),
        variant=job.batch_variant,
    )
