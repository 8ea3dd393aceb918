"""Edits of a picture: which source a user may edit, their painted mask, and the chain of
edits each picture descends from.

Who may see a source is the gallery's one rule (``gallery.selectors.background_visible``): the
same that serves its file, so an edit can never reach a picture its file would be refused for.
The chain is text copied into every job when it is queued (``GenerationJob.provenance``), so
deleting any step leaves its descendants' history whole; thumbnails and links are added only for
steps that still exist and that the viewer may see.
"""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import DataAndFiles, MultiPartParser

from accounts.types import Viewer, viewer_id
from generation.manager.types import JobKind
from generation.models import Background, GenerationJob

if TYPE_CHECKING:
    from PIL.Image import Image

# Strength comes in steps of 0.05: jobs in one bucket batch together, and "a little" stays a
# choice a person can make twice.
STRENGTH_STEP = 0.05
STRENGTH_MIN, STRENGTH_MAX = 0.05, 1.0
DEFAULT_STRENGTH = 0.6
# A mask is a small black-and-white PNG; anything bigger than this is not one.
MASK_MAX_BYTES = 2 * 1024 * 1024
MASK_MAX_SIDE = 2048
MASK_DATA_URL_PREFIX = "data:image/png;base64,"


class ProvenanceStep(TypedDict):
    """One picture of a chain, as text: what made it (a drawing, an edit, an edit of a region)."""

    image: str
    job: str
    owner: int
    kind: str
    prompt: str
    strength: float | None
    masked: bool


@extend_schema_field(OpenApiTypes.STR)
class MaskField(serializers.Field):  # type: ignore[type-arg]
    """A PNG as a ``data:image/png;base64,…`` string or an uploaded file; read in ``validate``,
    where the picture's size is known."""

    def to_internal_value(self, data: Any) -> Any:
        if data in ("", None):
            return None
        if isinstance(data, str) or hasattr(data, "read"):
            return data
        raise serializers.ValidationError(_("The mask must be a PNG image, sent as a data: URL or a file."))

    def to_representation(self, value: Any) -> Any:
        return None


class MaskUploadParser(MultiPartParser):
    """Multipart only for what JSON cannot carry well: an edit whose mask is a file. Any other
    form body is refused as before (415, "send JSON"), so forms never half-work."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> DataAndFiles[Any, Any]:
        parsed = super().parse(stream, media_type, parser_context)
        if "mask" not in parsed.files:
            raise UnsupportedMediaType(media_type or "multipart/form-data")
        return parsed


class SourceNotFound(Exception):
    """No picture by that id that this user may edit: 404, whether it is missing or private."""

    message = gettext_lazy("There is no picture with this id that you may edit.")


def strength_bucket(value: float) -> float:
    """The nearest step of 0.05 within the allowed range."""
    snapped = round(round(value / STRENGTH_STEP) * STRENGTH_STEP, 2)
    return min(STRENGTH_MAX, max(STRENGTH_MIN, snapped))


def edit_source_for(user: Viewer, image_id: str) -> Background:
    """The picture ``user`` asks to edit, if they may see it; the gallery's rule decides."""
    from gallery.selectors import background_visible  # gallery builds on generation, not back

    background = Background.objects.select_related("job", "job__owner").filter(id=str(image_id)).first()
    if background is None or not background_visible(background, user):
        raise SourceNotFound(str(SourceNotFound.message))
    return background


def source_size(background: Background) -> tuple[int, int]:
    if background.width and background.height:
        return background.width, background.height
    with background.image.open("rb") as handle:
        from PIL import Image as PILImage

        with PILImage.open(handle) as picture:
            width, height = picture.size
    return int(width), int(height)


def edit_size(background: Background, low: int, high: int, multiple: int) -> tuple[int, int]:
    """The size an edit draws at by default: the source's, as the model allows it."""
    width, height = source_size(background)
    scale = min(1.0, high / max(width, height))
    fit = [max(low, int(side * scale) // multiple * multiple) for side in (width, height)]
    return fit[0], fit[1]


def _mask_bytes(value: Any) -> bytes:
    if isinstance(value, str):
        if not value.startswith(MASK_DATA_URL_PREFIX):
            raise ValidationError(_("The mask must be a PNG image, sent as a data: URL or a file."))
        encoded = value[len(MASK_DATA_URL_PREFIX) :]
        if len(encoded) > MASK_MAX_BYTES * 4 // 3 + 4:
            raise ValidationError(_("The mask is too large: keep it under 2 MB."))
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError(_("The mask is not valid base64 PNG data.")) from None
    size = getattr(value, "size", None)
    if not hasattr(value, "read") or size is None:
        raise ValidationError(_("The mask must be a PNG image, sent as a data: URL or a file."))
    if size > MASK_MAX_BYTES:
        raise ValidationError(_("The mask is too large: keep it under 2 MB."))
    data: bytes = value.read(MASK_MAX_BYTES + 1)
    return data


def mask_decode(value: Any, size: tuple[int, int]) -> Image:
    """A painted mask as an "L" image at ``size`` (white = change). It may come at the source's
    size or scaled (same shape); transparent pixels count as unpainted."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    data = _mask_bytes(value)
    if len(data) > MASK_MAX_BYTES:
        raise ValidationError(_("The mask is too large: keep it under 2 MB."))
    try:
        with PILImage.open(io.BytesIO(data)) as opened:
            if opened.format != "PNG":
                raise ValidationError(_("The mask must be a PNG image, sent as a data: URL or a file."))
            if max(opened.size) > MASK_MAX_SIDE:
                raise ValidationError(_("The mask is too large: at most 2048 pixels a side."))
            opened.load()
            picture = opened.copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(_("The mask could not be read as a PNG image.")) from None
    width, height = picture.size
    if abs(width / height - size[0] / size[1]) > 0.02 * size[0] / size[1]:
        raise ValidationError(
            _("The mask must have the picture's shape: %(width)d by %(height)d pixels, or scaled to it.")
            % {"width": size[0], "height": size[1]}
        )
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        canvas = PILImage.new("RGBA", picture.size, (0, 0, 0, 255))
        canvas.alpha_composite(picture.convert("RGBA"))
        picture = canvas
    mask = picture.convert("L")
    if mask.size != size:
        mask = mask.resize(size, PILImage.Resampling.BILINEAR)
    mask = mask.point(lambda level: 255 if level >= 128 else 0)
    if mask.getbbox() is None:
        raise ValidationError(_("The mask is empty: paint the region to change, or send no mask."))
    return mask


def png_file(picture: Image, name: str) -> ContentFile[bytes]:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name=name)


def source_copy(background: Background, name: str) -> ContentFile[bytes]:
    """The job's own copy of its source: the edit still draws if the source is deleted first."""
    with background.image.open("rb") as handle:
        return ContentFile(handle.read(), name=name)


def step_of(background: Background) -> ProvenanceStep:
    job = background.job
    return {
        "image": background.id,
        "job": job.id,
        "owner": job.owner_id,
        "kind": job.kind,
        "prompt": job.prompt,
        "strength": job.strength,
        "masked": job.kind == JobKind.INPAINT,
    }


def provenance_for(source: Background, editor: Viewer) -> list[ProvenanceStep]:
    """The chain an edit of ``source`` records: the source's own chain, then the source; only
    as far back as ``editor`` may see it, so editing someone's public picture never copies the
    text of their private steps into the editor's job."""
    return [step.text for step in chain_for(source, editor)]


def job_provenance(job: GenerationJob) -> list[dict[str, Any]]:
    return [step for step in job.provenance if isinstance(step, dict)]


@dataclass
class ChainStep:
    """One step of a chain as a page shows it: the text always, the picture when the viewer may
    see it (``image`` None: deleted)."""

    text: ProvenanceStep
    image: Background | None
    current: bool = False

    @property
    def kind_label(self) -> str:
        kind = self.text.get("kind", JobKind.DRAW)
        if kind == JobKind.INPAINT:
            return _("Region changed")
        if kind == JobKind.EDIT:
            return _("Edited")
        return _("Drawn")


def chain_for(background: Background, viewer: Viewer) -> list[ChainStep]:
    """The chain ``background`` descends from, oldest first, ending with it, as far back as
    ``viewer`` may follow it: going back from the newest, it stops before the first step the
    viewer may not see; a deleted step is shown (as text) to its own owner only."""
    from gallery.selectors import background_visible

    steps = [*job_provenance(background.job), dict(step_of(background))]
    ids = [str(step.get("image", "")) for step in steps]
    rows = Background.objects.select_related("job", "job__owner").in_bulk(ids)
    shown: list[ChainStep] = []
    me = viewer_id(viewer)
    for position, step in enumerate(reversed(steps)):
        row = background if position == 0 else rows.get(str(step.get("image", "")))
        if row is None:
            if me is None or step.get("owner") != me:
                break
        elif position and not background_visible(row, viewer):
            break
        shown.append(ChainStep(text=step, image=row, current=position == 0))  # type: ignore[arg-type]
    shown.reverse()
    return shown


# The strength slider's words, lowest first: (upper bound, words). Shared with the studio.
STRENGTH_WORDS = (
    (0.3, gettext_lazy("a little")),
    (0.55, gettext_lazy("somewhat")),
    (0.8, gettext_lazy("a lot")),
    (1.0, gettext_lazy("almost all of it")),
)


def strength_words(strength: object) -> str:
    """How much an edit changed, in plain words ("" for a drawing)."""
    if not isinstance(strength, int | float):
        return ""
    return next((str(words) for bound, words in STRENGTH_WORDS if strength <= bound + 1e-9), "")
