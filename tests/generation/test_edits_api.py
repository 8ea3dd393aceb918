"""POST /api/v1/jobs/ with a source picture: what an edit job records, and every bad input
refused with a message and nothing written."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw
from rest_framework.test import APIClient

from gallery import services as gallery_services
from generation.manager.types import JobKind
from generation.models import Background, GenerationJob
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


def png(size: tuple[int, int], *, painted: bool = True, mode: str = "L", fmt: str = "PNG") -> bytes:
    mask = Image.new(mode, size, 0)
    if painted:
        ImageDraw.Draw(mask).rectangle((0, 0, size[0] // 2, size[1] // 2), fill=255 if mode == "L" else (255,) * 4)
    buffer = io.BytesIO()
    mask.convert("RGB" if fmt == "JPEG" else mode).save(buffer, format=fmt)
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def stored_files(folder: str) -> list[str]:
    try:
        return default_storage.listdir(folder)[1]
    except FileNotFoundError:
        return []


def test_an_edit_of_your_own_picture_records_its_source_and_strength(alice: Any, alice_api: APIClient) -> None:
    source = drawn_background(alice, size=96)

    response = alice_api.post(
        "/api/v1/jobs/", {"prompt": "make it snowy", "source_image": source.id, "strength": 0.33}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["kind"] == JobKind.EDIT
    assert body["source_image"] == source.id
    assert body["strength"] == 0.35  # a step of 0.05
    assert body["masked"] is False
    assert (body["width"], body["height"]) == (96, 96)  # the source's size
    assert [step["image"] for step in body["provenance"]] == [source.id]
    assert body["provenance"][0]["prompt"] == source.job.prompt
    job = GenerationJob.objects.get(id=body["id"])
    assert job.source_file and job.batch_variant == "edit:0.35"


def test_a_mask_as_a_data_url_makes_an_edit_of_a_region(alice: Any, alice_api: APIClient) -> None:
    source = drawn_background(alice, size=64)

    response = alice_api.post(
        "/api/v1/jobs/",
        {"prompt": "add a moon", "source_image": source.id, "mask": data_url(png((128, 128)))},
        format="json",
    )

    assert response.status_code == 201, response.json()
    job = GenerationJob.objects.get(id=response.json()["id"])
    assert job.kind == JobKind.INPAINT and response.json()["masked"] is True
    with job.mask.open("rb") as handle, Image.open(handle) as mask:
        assert mask.size == (64, 64)  # scaled to the picture
        assert mask.getpixel((5, 5)) == 255 and mask.getpixel((60, 60)) == 0


def test_a_mask_can_come_as_a_file_in_a_multipart_request(alice: Any, alice_api: APIClient) -> None:
    source = drawn_background(alice, size=64)
    upload = SimpleUploadedFile("mask.png", png((64, 64)), content_type="image/png")

    response = alice_api.post(
        "/api/v1/jobs/", {"prompt": "add a moon", "source_image": source.id, "mask": upload}, format="multipart"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == JobKind.INPAINT


def test_a_public_picture_of_someone_else_can_be_edited(alice: Any, bob: Any, bob_api: APIClient) -> None:
    source = drawn_background(alice)
    gallery_services.creation_create(owner=alice, background=source, layers=[], visibility="public")

    response = bob_api.post("/api/v1/jobs/", {"prompt": "at night", "source_image": source.id}, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["provenance"][0]["owner"] == alice.pk


def test_someone_elses_private_picture_is_not_found(alice: Any, bob: Any, bob_api: APIClient) -> None:
    source = drawn_background(alice)

    response = bob_api.post("/api/v1/jobs/", {"prompt": "at night", "source_image": source.id}, format="json")

    assert response.status_code == 404
    assert "no picture with this id" in response.json()["detail"]
    assert not GenerationJob.objects.filter(owner=bob).exists()


def test_an_unknown_source_is_not_found(alice_api: APIClient) -> None:
    response = alice_api.post("/api/v1/jobs/", {"prompt": "x", "source_image": "nosuchimage00"}, format="json")

    assert response.status_code == 404
    assert response.json()["detail"]
    assert not GenerationJob.objects.exists()


BAD_EDITS = [
    pytest.param({"strength": 0}, "strength", "0.05", id="strength-zero"),
    pytest.param({"strength": 1.5}, "strength", "0.05", id="strength-over-one"),
    pytest.param({"strength": "lots"}, "strength", "number", id="strength-not-a-number"),
    pytest.param({"mask": "data:image/png;base64,@@@"}, "mask", "base64", id="mask-not-base64"),
    pytest.param({"mask": "https://example.com/mask.png"}, "mask", "PNG", id="mask-a-url"),
    pytest.param({"mask": data_url(b"not a png")}, "mask", "could not be read", id="mask-not-an-image"),
    pytest.param({"mask": data_url(png((64, 32)))}, "mask", "shape", id="mask-wrong-shape"),
    pytest.param({"mask": data_url(png((64, 64), painted=False))}, "mask", "empty", id="mask-empty"),
    pytest.param({"mask": data_url(png((4096, 4096)))}, "mask", "2048", id="mask-too-big"),
    pytest.param({"mask": 12}, "mask", "PNG", id="mask-a-number"),
    pytest.param({"mask": "data:image/png;base64," + "A" * (3 * 1024 * 1024)}, "mask", "2 MB", id="mask-over-2mb"),
]


@pytest.mark.parametrize(("extra", "field", "message"), BAD_EDITS)
def test_bad_edit_input_is_refused_with_a_message_and_nothing_written(
    alice: Any, alice_api: APIClient, extra: dict[str, Any], field: str, message: str
) -> None:
    source = drawn_background(alice, size=64)

    response = alice_api.post(
        "/api/v1/jobs/", {"prompt": "make it snowy", "source_image": source.id, **extra}, format="json"
    )

    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert GenerationJob.objects.count() == 1  # the source's own job only
    assert stored_files("edit-sources") == [] and stored_files("edit-masks") == []


def test_a_jpeg_mask_is_refused(alice: Any, alice_api: APIClient) -> None:
    source = drawn_background(alice, size=64)
    jpeg = "data:image/png;base64," + base64.b64encode(png((64, 64), fmt="JPEG")).decode()

    response = alice_api.post("/api/v1/jobs/", {"prompt": "x", "source_image": source.id, "mask": jpeg}, format="json")

    assert response.status_code == 400
    assert "PNG" in response.json()["mask"][0]


def test_a_mask_or_strength_without_a_source_is_refused(alice_api: APIClient) -> None:
    for extra, field in (({"mask": data_url(png((64, 64)))}, "mask"), ({"strength": 0.5}, "strength")):
        response = alice_api.post("/api/v1/jobs/", {"prompt": "x", **extra}, format="json")

        assert response.status_code == 400
        assert response.json()[field]
    assert not GenerationJob.objects.exists()


def test_an_edit_keeps_working_when_its_source_is_deleted(alice: Any, alice_api: APIClient) -> None:
    source = drawn_background(alice)
    response = alice_api.post("/api/v1/jobs/", {"prompt": "snow", "source_image": source.id}, format="json")
    source.job.delete()

    job = GenerationJob.objects.get(id=response.json()["id"])
    assert job.source_image is None and job.source_file
    assert job.provenance[0]["image"] == source.id
    assert not Background.objects.filter(id=source.id).exists()
