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


def validate_image_file(value: IO[bytes] | Any) -> None:
    """The same checks with the default limits, shaped as a Django validator.

    Usable as ``ImageField(validators=[validate_image_file])`` or on a form field.
    """
    validate_image_upload(value)
