"""Checking uploaded pictures by what they contain, before anything is stored.

The file name and the browser's content type are the sender's word; the bytes are not.
Dimensions are read from the header before any pixel is decoded, so a small file that
claims to be 100,000 pixels wide is refused without spending the memory to unpack it.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError

ALLOWED_FORMATS = ("PNG", "WEBP", "JPEG")
EXTENSIONS = {"PNG": "png", "WEBP": "webp", "JPEG": "jpg"}

MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 16_000_000
MAX_SIDE = 4096

# What Pillow raises on broken data varies by format and decoder; all of them mean "damaged".
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "PNG", "WEBP" or "JPEG", as Pillow names them
    width: int
    height: int
    has_alpha: bool

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def _read_limited(file: IO[bytes] | Any, max_bytes: int) -> bytes:
    """Reads at most one byte past the limit, whatever size the upload claims, then rewinds."""
    if hasattr(file, "seek"):
        file.seek(0)
    data: bytes = file.read(max_bytes + 1)
    if hasattr(file, "seek"):
        file.seek(0)
    return data


# EXIF orientations 5 to 8 are a quarter turn: the picture is seen with width and height swapped.
_ORIENTATION_TAG = 0x0112
_QUARTER_TURNS = {5, 6, 7, 8}


def _orientation(image: Any) -> int | None:
    """The EXIF orientation (1 is upright; phones store portraits as 6 or 8), if any."""
    try:
        value = image.getexif().get(_ORIENTATION_TAG)
    except _DECODE_ERRORS:  # an unreadable EXIF block: the pixels are taken as they are
        return None
    return value if isinstance(value, int) else None


def _turned_sideways(image: Any) -> bool:
    """Whether the stored pixels are a quarter turn from upright. Renders turn them upright
    (``compositing.upright``), so sizes are reported upright too."""
    return _orientation(image) in _QUARTER_TURNS


def _has_alpha(image: Any) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def validate_image_upload(
    file: IO[bytes] | Any,
    *,
    max_bytes: int = MAX_BYTES,
    max_pixels: int = MAX_PIXELS,
    max_side: int = MAX_SIDE,
) -> ImageInfo:
    """Returns what the picture is, or raises ``ValidationError`` saying what is wrong with it.

    The file is left rewound and untouched: the original bytes (alpha included) are what gets stored.
    Width and height are as the picture is seen: an EXIF orientation that turns it is applied.
    """
    data = _read_limited(file, max_bytes)
    if len(data) > max_bytes:
        raise ValidationError(
            _("The file is too big: at most %(megabytes)s MB."),
            code="too_big",
            params={"megabytes": _megabytes(max_bytes)},
        )
    with warnings.catch_warnings():
        # Pillow's own bomb guard warns past MAX_IMAGE_PIXELS; a warning would let the decode go on.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
        except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
            if isinstance(error, UnidentifiedImageError):
                raise ValidationError(_("This file is not a PNG, WebP or JPEG image."), code="unsupported") from error
            raise _too_large(max_side) from error
        except _DECODE_ERRORS as error:
            raise ValidationError(_("The file is damaged or incomplete."), code="damaged") from error
        with image:
            width, height = image.size
            if width <= 0 or height <= 0 or width > max_side or height > max_side:
                raise _too_large(max_side)
            if width * height > max_pixels:
                raise ValidationError(
                    _("The image has too many pixels: at most %(millions)s million."),
                    code="too_many_pixels",
                    params={"millions": f"{max_pixels / 1_000_000:g}"},
                )
            # Multi-picture JPEGs (phone cameras) open as "MPO"; their first picture is a plain JPEG.
            kind = "JPEG" if image.format == "MPO" else image.format
            if kind not in ALLOWED_FORMATS:
                raise ValidationError(_("This file is not a PNG, WebP or JPEG image."), code="unsupported")
            if _turned_sideways(image):  # stored sideways with an EXIF note: report it as seen
                width, height = height, width
            info = ImageInfo(format=kind, width=width, height=height, has_alpha=_has_alpha(image))
            try:
                image.load()  # only now, with the size known to be sane: catches truncated data
            except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
                raise _too_large(max_side) from error
            except _DECODE_ERRORS as error:
                raise ValidationError(_("The file is damaged or incomplete."), code="damaged") from error
    return info


def _too_large(max_side: int) -> ValidationError:
    return ValidationError(
        _("The image is too large: at most %(side)s × %(side)s pixels."),  # noqa: RUF001 - the sign users read
        code="too_large",
        params={"side": max_side},
    )


def cut_out_to_store(file: IO[bytes] | Any, info: ImageInfo, *, max_height: int | None = None) -> tuple[Any, ImageInfo]:
    """What to store for a character cut-out: the upload itself when it is upright (no EXIF
    turn) and no taller than renders use; otherwise an upright copy at most ``max_height``
    (``compositing.WORKING_HEIGHT``) tall, in the same format.

    Stored upright and small, the editor in the browser shows what the server draws, and the
    first render after a restart decodes a 1024 px picture instead of a 4096 px one (~10x less).
    Call it on an upload that ``validate_image_upload`` accepted.
    """
    from gallery.compositing import WORKING_HEIGHT, upright

    most = WORKING_HEIGHT if max_height is None else max_height
    data = _read_limited(file, MAX_BYTES * 4)
    with Image.open(io.BytesIO(data)) as image:
        turned = _orientation(image) not in (None, 1)
        if not turned and info.height <= most:
            return file, info
        picture = upright(image).convert("RGBA" if info.has_alpha else "RGB")
    if picture.height > most:
        size = (max(1, round(picture.width * most / picture.height)), most)
        picture = picture.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    buffer = io.BytesIO()
    options: dict[str, Any] = {"quality": 92} if info.format in ("JPEG", "WEBP") else {}
    if info.format == "WEBP" and info.has_alpha:
        options = {"lossless": True}
    picture.save(buffer, format=info.format, **options)
    name = getattr(file, "name", None) or f"character.{info.extension}"
    stored = SimpleUploadedFile(name, buffer.getvalue(), content_type=f"image/{info.format.lower()}")
    return stored, ImageInfo(format=info.format, width=picture.width, height=picture.height, has_alpha=info.has_alpha)
