"""``manage.py train_style`` trains from a folder on this machine (captions from .txt files
beside the pictures) and ends as a new, disabled style; bad folders get a clear error."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from generation.models import Style, StyleTraining
from tests.generation.style_helpers import LIGHT, uniform_pictures

pytestmark = pytest.mark.django_db


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for index, picture in enumerate(uniform_pictures(LIGHT, count=10)):
        picture.save(tmp_path / f"p{index}.png")
    (tmp_path / "p0.txt").write_text("a sunny wall, wee\n")
    return tmp_path


def test_it_trains_from_a_folder_and_makes_a_disabled_style(folder: Path, settings: Any, model_cache: Path) -> None:
    settings.WEE_WAA_MODEL = "tiny"
    settings.WEE_WAA_MODEL_CACHE = model_cache
    out = io.StringIO()

    call_command(
        "train_style", str(folder), "--name", "Sunny", "--trigger-word", "wee", "--steps", "4", "--resolution", "64",
        stdout=out,
    )  # fmt: skip

    run = StyleTraining.objects.get()
    assert run.status == StyleTraining.Status.SUCCEEDED and run.step == 4
    captions = [image.caption for image in run.images.all()]
    assert captions.count("a sunny wall, wee") == 1 and captions.count("Sunny, wee") == 9
    style = Style.objects.get(pk=run.result_id)
    assert not style.is_active and style.lora_sha256 and "New style (disabled)" in out.getvalue()


def test_a_folder_with_too_few_pictures_is_refused_with_a_message(tmp_path: Path) -> None:
    uniform_pictures(LIGHT, count=1)[0].save(tmp_path / "only.png")

    with pytest.raises(CommandError) as refused:
        call_command("train_style", str(tmp_path), "--name", "Sunny", "--steps", "4")

    assert "10" in str(refused.value)
    assert not StyleTraining.objects.exists()
