"""Uploaded pictures are checked by content: kind, size, dimensions, completeness."""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from gallery.models import Character
from gallery.uploads import validate_image_file, validate_image_upload


def _encoded(image: Any, format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


def _cut_out(size: tuple[int, int] = (64, 80)) -> Any:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    image.paste((220, 120, 40, 255), (16, 16, size[0] - 16, size[1] - 16))
    return image


def _noise_png(side: int = 256) -> bytes:
    return _encoded(Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)), "PNG")


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny real PNG whose IHDR chunk (with a correct CRC) claims other dimensions."""
    data = bytearray(_encoded(Image.new("RGB", (1, 1)), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def _upload(data: bytes, name: str = "upload.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def _refusal(data: bytes, **limits: int) -> ValidationError:
    with pytest.raises(ValidationError) as refused:
        validate_image_upload(_upload(data), **limits)
    return refused.value


def test_a_png_with_transparency_passes_and_keeps_its_alpha() -> None:
    upload = _upload(_encoded(_cut_out(), "PNG"))

    info = validate_image_upload(upload)

    assert (info.format, info.width, info.height, info.has_alpha) == ("PNG", 64, 80, True)
    assert upload.tell() == 0  # left rewound for whoever stores it
    stored = Image.open(io.BytesIO(upload.read()))
    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0 and stored.getpixel((32, 40))[3] == 255


def test_a_jpeg_passes_without_alpha() -> None:
    info = validate_image_upload(_upload(_encoded(Image.new("RGB", (40, 30), "teal"), "JPEG"), "photo.jpg"))

    assert (info.format, info.width, info.height, info.has_alpha) == ("JPEG", 40, 30, False)
    assert info.extension == "jpg"


def test_a_webp_with_transparency_passes() -> None:
    info = validate_image_upload(_upload(_encoded(_cut_out(), "WEBP"), "cut.webp"))

    assert (info.format, info.has_alpha) == ("WEBP", True)


def test_a_text_file_named_png_is_refused() -> None:
    refusal = _refusal(b"hello, I am not a picture\n" * 10)

    assert refusal.code == "unsupported"
    assert "not a PNG, WebP or JPEG" in refusal.messages[0]


def test_a_gif_is_refused_even_though_pillow_reads_it() -> None:
    assert _refusal(_encoded(Image.new("P", (8, 8)), "GIF")).code == "unsupported"


@pytest.mark.parametrize("pillow_guard", [True, False], ids=["pillow-guard-on", "pillow-guard-off"])
def test_a_png_claiming_huge_dimensions_is_refused_without_decoding(
    pillow_guard: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pillow_guard:
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)

    def no_decoding(self: Any) -> None:
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)

    refusal = _refusal(_png_claiming(100_000, 100_000))

    assert refusal.code == "too_large"
    assert "at most 4096 × 4096 pixels" in refusal.messages[0]  # noqa: RUF001 - the typographic sign users see


def test_an_image_with_one_side_too_long_is_refused() -> None:
    assert _refusal(_encoded(Image.new("L", (5000, 10)), "PNG")).code == "too_large"


def test_an_image_with_too_many_pixels_in_all_is_refused() -> None:
    assert _refusal(_encoded(Image.new("L", (100, 100)), "PNG"), max_pixels=9_999).code == "too_many_pixels"


def test_a_truncated_png_is_refused() -> None:
    whole = _noise_png()

    refusal = _refusal(whole[: len(whole) // 2])

    assert refusal.code == "damaged"
    assert refusal.messages == ["The file is damaged or incomplete."]


def test_a_file_over_8_mb_is_refused_before_looking_inside() -> None:
    refusal = _refusal(_encoded(Image.new("RGB", (8, 8)), "PNG") + bytes(8 * 1024 * 1024))

    assert refusal.code == "too_big"
    assert refusal.messages == ["The file is too big: at most 8 MB."]


def test_the_size_limit_can_be_lowered() -> None:
    assert _refusal(_noise_png(64), max_bytes=1000).code == "too_big"


def test_the_validator_works_on_a_field_value() -> None:
    validate_image_file(_upload(_encoded(_cut_out(), "PNG")))
    with pytest.raises(ValidationError):
        validate_image_file(_upload(b"nope"))


# The admin's form uses the same checks.

ADD_URL = "/admin/gallery/character/add/"


def _character_form(image: SimpleUploadedFile) -> dict[str, Any]:
    return {
        "name": "Sprout",
        "slug": "sprout",
        "image": image,
        "default_scale": "0.35",
        "source": "",
        "is_active": "on",
    }


def _stored_files(settings: Any) -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


@pytest.mark.django_db
def test_the_admin_refuses_a_bad_file_with_a_clear_error_and_stores_nothing(admin_client: Any, settings: Any) -> None:
    response = admin_client.post(ADD_URL, _character_form(_upload(b"<svg>surprise</svg>", "sprout.png")))

    assert response.status_code == 200
    assert "This file is not a PNG, WebP or JPEG image." in response.content.decode()
    assert not Character.objects.exists()
    assert _stored_files(settings) == []


@pytest.mark.django_db
def test_the_admin_refuses_a_truncated_file(admin_client: Any, settings: Any) -> None:
    whole = _noise_png()

    response = admin_client.post(ADD_URL, _character_form(_upload(whole[:-400], "sprout.png")))

    assert "The file is damaged or incomplete." in response.content.decode()
    assert not Character.objects.exists()


@pytest.mark.django_db
def test_the_admin_stores_a_good_cut_out_with_its_size_named_by_its_kind(admin_client: Any) -> None:
    response = admin_client.post(ADD_URL, _character_form(_upload(_encoded(_cut_out(), "PNG"), "sprout.bin")))

    assert response.status_code == 302, response.content.decode()[:2000]
    character = Character.objects.get(slug="sprout")
    assert (character.width, character.height) == (64, 80)
    assert character.image.name.startswith("characters/sprout") and character.image.name.endswith(".png")
    with character.image.open("rb") as stored:
        assert Image.open(stored).mode == "RGBA"


@pytest.mark.django_db
def test_the_admin_lists_characters_with_a_preview(admin_client: Any) -> None:
    admin_client.post(ADD_URL, _character_form(_upload(_encoded(_cut_out(), "PNG"))))

    response = admin_client.get("/admin/gallery/character/")

    assert response.status_code == 200
    assert '<img src="/media/characters/' in response.content.decode()
