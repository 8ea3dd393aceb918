"""Adapter uploads are checked by content: only safetensors made for the model this site draws
with are stored; anything else is a form error and nothing is written."""

from __future__ import annotations

import io
import json
import pickle
import struct
from pathlib import Path
from typing import Any

import pytest
import torch
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from safetensors.torch import save

from accounts.models import User
from generation.models import Style
from generation.style_adapters import validate_adapter_upload
from tests.generation.style_helpers import LIGHT, fresh_tiny, train_adapter

pytestmark = pytest.mark.django_db

ATTN2_TO_K = "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k"  # a real layer, 32 inputs


@pytest.fixture(scope="module")
def good_adapter(model_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    pipe = fresh_tiny(model_cache)
    return train_adapter(pipe, LIGHT, tmp_path_factory.mktemp("adapter"), steps=2).read_bytes()


@pytest.fixture
def tiny_site(settings: Any, model_cache: Path) -> None:
    settings.WEE_WAA_MODEL = "tiny"
    settings.WEE_WAA_MODEL_CACHE = model_cache


@pytest.fixture
def staff(db: None) -> Client:
    User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.login(username="root", password="pw")
    return client


def upload(client: Client, content: bytes, name: str = "look.safetensors") -> Any:
    return client.post(
        "/admin/generation/style/add/",
        {
            "name": "Sunny", "description": "Warm light", "prompt_template": "{prompt}, sunny",
            "negative_prompt": "", "default_steps": 2, "guidance_scale": 0.0, "default_width": 64,
            "default_height": 64, "is_active": "on", "lora_weight": 1.0, "base_model": "",
            "lora": SimpleUploadedFile(name, content),
        },
    )  # fmt: skip


def stored_adapters() -> list[str]:
    try:
        return default_storage.listdir("styles/adapters")[1]
    except FileNotFoundError:
        return []


def test_a_trained_adapter_is_stored_with_its_hash(tiny_site: None, staff: Client, good_adapter: bytes) -> None:
    response = upload(staff, good_adapter)

    assert response.status_code == 302
    style = Style.objects.get(name="Sunny")
    assert len(style.lora_sha256) == 64
    snapshot = style.adapter_snapshot()
    assert snapshot["key"] == f"style_{style.lora_sha256[:12]}"
    assert snapshot["weight"] == 1.0 and snapshot["file"] == style.lora.name


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (lambda good: pickle.dumps({"unet.x": [1.0, 2.0]}), "look.safetensors", "not a .safetensors file"),
        (lambda good: b"PK\x03\x04" + b"\x00" * 200, "look.safetensors", "not a .safetensors file"),
        (lambda good: good, "look.ckpt", "not a .safetensors file"),
        (lambda good: good[: len(good) - 100], "look.safetensors", "incomplete"),
        (
            lambda good: save({"unet.nowhere.to_q.lora.down.weight": torch.zeros(4, 32)}),
            "a.safetensors",
            "another model",
        ),
        (
            lambda good: save(
                {
                    "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.lora.down.weight": torch.zeros(
                        4, 768
                    )
                }
            ),
            "a.safetensors",
            "another model",
        ),
    ],
    ids=["pickle", "torch-zip", "wrong-extension", "truncated", "wrong-modules", "wrong-shape"],
)
def test_a_bad_adapter_is_refused_with_a_message_and_nothing_is_stored(
    tiny_site: None, staff: Client, good_adapter: bytes, make: Any, name: str, message: str
) -> None:
    response = upload(staff, make(good_adapter), name)

    assert response.status_code == 200
    errors = " ".join(str(error) for error in response.context["adminform"].form.errors["lora"])
    assert message in errors
    assert not Style.objects.filter(name="Sunny").exists()
    assert stored_adapters() == []


def test_an_oversized_adapter_is_refused_before_its_header_is_read(
    tiny_site: None, staff: Client, good_adapter: bytes, settings: Any
) -> None:
    settings.WEE_WAA_MAX_ADAPTER_MB = 0

    response = upload(staff, good_adapter)

    assert response.status_code == 200
    assert "too big" in str(response.context["adminform"].form.errors["lora"])
    assert stored_adapters() == []


def test_a_header_claiming_to_be_huge_is_refused_without_reading_it(tiny_site: None) -> None:
    content = struct.pack("<Q", 10**12) + json.dumps({}).encode()

    with pytest.raises(Exception, match=r"not a \.safetensors file"):
        validate_adapter_upload(io.BytesIO(content), model="tiny", file_name="a.safetensors")
