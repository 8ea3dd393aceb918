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
from gallery.uploads import cut_out_to_store, validate_image_upload


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


def test_an_uploaded_file_is_checked_with_the_default_limits() -> None:
    validate_image_upload(_upload(_encoded(_cut_out(), "PNG")))
    with pytest.raises(ValidationError):
        validate_image_upload(_upload(b"nope"))


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


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
@pytest.mark.parametrize(("orientation", "seen"), [(1, (40, 30)), (3, (40, 30)), (6, (30, 40)), (8, (30, 40))])
def test_the_size_reported_is_the_upright_size_an_exif_orientation_gives(
    image_format: str, orientation: int, seen: tuple[int, int]
) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, format=image_format, exif=exif)

    info = validate_image_upload(_upload(buffer.getvalue(), f"phone.{image_format.lower()}"))

    assert (info.width, info.height) == seen


def _sideways(upright_art: Any, image_format: str, orientation: int = 6) -> bytes:
    """Pixels stored a quarter turn off, with the EXIF note that turns them back (as phones do)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    turn = Image.Transpose.ROTATE_90 if orientation == 6 else Image.Transpose.ROTATE_270
    buffer = io.BytesIO()
    upright_art.transpose(turn).save(buffer, format=image_format, exif=exif)
    return buffer.getvalue()


def _red_over_green(size: tuple[int, int], mode: str = "RGBA") -> Any:
    art = Image.new(mode, size, "red")
    art.paste("lime", (0, size[1] // 2, size[0], size[1]))
    return art


def test_an_upright_cut_out_of_a_usable_size_is_stored_as_uploaded() -> None:
    upload = _upload(_encoded(_cut_out(), "PNG"))

    stored, info = cut_out_to_store(upload, validate_image_upload(upload))

    assert stored is upload and (info.width, info.height) == (64, 80)


@pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
def test_a_sideways_cut_out_is_stored_upright_without_its_orientation_note(image_format: str) -> None:
    mode = "RGB" if image_format == "JPEG" else "RGBA"
    upload = _upload(_sideways(_red_over_green((30, 40), mode), image_format), f"phone.{image_format.lower()}")

    stored, info = cut_out_to_store(upload, validate_image_upload(upload))

    with Image.open(io.BytesIO(stored.read())) as picture:
        assert picture.format == image_format and picture.size == (30, 40) == (info.width, info.height)
        assert picture.getexif().get(0x0112) in (None, 1)
        top, bottom = picture.convert("RGB").getpixel((15, 5)), picture.convert("RGB").getpixel((15, 35))
    assert top[0] > 200 and top[1] < 60 and bottom[1] > 200 and bottom[0] < 60


def test_a_cut_out_taller_than_renders_use_is_stored_at_the_working_height() -> None:
    upload = _upload(_encoded(_cut_out((1500, 3000)), "PNG"))

    stored, info = cut_out_to_store(upload, validate_image_upload(upload))

    with Image.open(io.BytesIO(stored.read())) as picture:
        assert picture.size == (512, 1024) == (info.width, info.height)
        assert picture.mode == "RGBA" and picture.getpixel((0, 0))[3] == 0


@pytest.mark.django_db
def test_the_admin_stores_a_sideways_phone_picture_upright_with_its_upright_size(admin_client: Any) -> None:
    photo = _sideways(_red_over_green((60, 80), "RGB"), "JPEG", orientation=8)

    response = admin_client.post(ADD_URL, _character_form(_upload(photo, "portrait.jpg")))

    assert response.status_code == 302, response.content.decode()[:2000]
    character = Character.objects.get(slug="sprout")
    assert (character.width, character.height) == (60, 80)
    with character.image.open("rb") as stored, Image.open(stored) as picture:
        assert picture.size == (60, 80)
        assert picture.convert("RGB").getpixel((30, 10))[0] > 200  # red on top
