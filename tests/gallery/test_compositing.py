"""The server render is the truth: a known layer list renders known pixels."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from gallery import services
from gallery.compositing import Layer, parse_layers, render
from gallery.models import Character, Creation
from generation.manager.worker import ModelManager
from generation.models import Background
from tests.factories import queue_job

BLUE, RED, GREEN = (0, 0, 255, 255), (255, 0, 0, 255), (0, 255, 0, 255)


def half_red_half_green(width: int = 10, height: int = 20) -> Image.Image:
    """Left half red, right half green, with a transparent 1-pixel frame: flips and edges show."""
    art = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    for x in range(1, width - 1):
        for y in range(1, height - 1):
            art.putpixel((x, y), RED if x < width // 2 else GREEN)
    return art


def test_a_layer_lands_where_its_centre_and_scale_say() -> None:
    background = Image.new("RGBA", (100, 100), BLUE)

    picture = render(background, [Layer("a", x=0.5, y=0.5, scale=0.2)], {"a": half_red_half_green()})

    assert picture.size == (100, 100) and picture.mode == "RGB"
    # 20 px tall and 10 px wide, centred: x 45-54, y 40-59, transparent frame around.
    assert picture.getpixel((47, 50)) == (255, 0, 0)
    assert picture.getpixel((52, 50)) == (0, 255, 0)
    assert picture.getpixel((45, 50)) == (0, 0, 255)  # the frame lets the background through
    assert picture.getpixel((30, 30)) == (0, 0, 255)


def test_flip_mirrors_and_z_decides_who_is_in_front() -> None:
    background = Image.new("RGBA", (100, 100), BLUE)
    solid_red = Image.new("RGBA", (10, 10), RED)
    layers = [
        Layer("art", x=0.5, y=0.5, scale=0.2, flip=True, z=2),
        Layer("red", x=0.5, y=0.5, scale=0.1, z=1),  # behind, though later in the list
    ]

    picture = render(background, layers, {"art": half_red_half_green(), "red": solid_red})

    assert picture.getpixel((47, 50)) == (0, 255, 0)  # mirrored: green is now on the left
    assert picture.getpixel((52, 50)) == (255, 0, 0)


def test_a_character_partly_outside_the_picture_is_cut_not_refused() -> None:
    picture = render(
        Image.new("RGBA", (50, 50), BLUE), [Layer("a", x=0.0, y=0.0, scale=0.4)], {"a": half_red_half_green()}
    )

    assert picture.getpixel((3, 3)) == (0, 255, 0)  # the right half of the sprite shows
    assert picture.getpixel((40, 40)) == (0, 0, 255)


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ("nope", "Layers must be a list."),
        ([{"character": "zzz", "x": 0.5, "y": 0.5, "scale": 0.3}], "Layer 1: unknown character."),
        ([{"character": "a", "x": "left", "y": 0.5, "scale": 0.3}], "Layer 1: “x” must be a number."),
        ([{"character": "a", "x": 0.5, "y": 0.5, "scale": 50}], "Layer 1: “scale” must be between"),
        ([{"character": "a", "x": float("nan"), "y": 0.5, "scale": 0.3}], "Layer 1: “x” must be a number."),
        ([{"character": "a", "x": 0.5, "y": 0.5, "scale": 0.3, "flip": "yes"}], "“flip” must be true or false"),
        ([{"character": "a", "x": 0.5, "y": 0.5, "scale": 0.3}] * 25, "At most 24 characters"),
    ],
)
def test_bad_layer_lists_are_refused_with_a_message_naming_the_layer(layers: Any, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_layers(layers, ["a"])

    assert message in refused.value.messages[0]


def stored_character(name: str, art: Image.Image) -> Character:
    buffer = io.BytesIO()
    art.save(buffer, format="PNG")
    character = Character(slug=name, name=name.title(), width=art.width, height=art.height)
    character.image.save(f"{name}.png", ContentFile(buffer.getvalue()), save=False)
    character.save()
    return character


@pytest.fixture
def background(alice: Any, manager: ModelManager) -> Background:
    queue_job(alice, width=128, height=96, seed=5)
    manager.run_once()
    return Background.objects.get(job__owner=alice)


@pytest.mark.django_db
def test_a_creation_is_rendered_at_full_size_with_a_webp_thumbnail_and_provenance(
    alice: Any, background: Background
) -> None:
    character = stored_character("blob", Image.new("RGBA", (10, 10), RED))

    creation = services.creation_create(
        owner=alice,
        background=background,
        layers=[{"character": character.id, "x": 0.5, "y": 0.5, "scale": 0.5, "flip": False, "z": 1}],
        title="  Red square  ",
    )

    with default_storage.open(creation.image.name, "rb") as stored, Image.open(stored) as picture:
        assert picture.format == "PNG" and picture.size == (128, 96)
        assert picture.convert("RGB").getpixel((64, 48)) == (255, 0, 0)
    with default_storage.open(creation.thumbnail.name, "rb") as stored, Image.open(stored) as thumb:
        assert thumb.format == "WEBP"
    assert (creation.title, creation.visibility, creation.moderation) == ("Red square", "private", "visible")
    assert creation.provenance["seed"] == background.seed
    assert creation.provenance["prompt"] == background.job.prompt
    assert len(creation.share_token) >= 32


@pytest.mark.django_db
def test_a_bad_layer_list_stores_nothing(alice: Any, background: Background) -> None:
    before = set(default_storage.listdir("creations")[1]) if default_storage.exists("creations") else set()

    with pytest.raises(ValidationError):
        services.creation_create(owner=alice, background=background, layers=[{"character": "missing"}])

    assert not Creation.objects.exists()
    after = set(default_storage.listdir("creations")[1]) if default_storage.exists("creations") else set()
    assert after == before


@pytest.mark.django_db
def test_editing_the_layers_renders_again_and_removes_the_old_files(alice: Any, background: Background) -> None:
    character = stored_character("blob", Image.new("RGBA", (10, 10), RED))
    layer = {"character": character.id, "x": 0.25, "y": 0.5, "scale": 0.5}
    creation = services.creation_create(owner=alice, background=background, layers=[layer])
    old_image = creation.image.name

    services.creation_update(creation=creation, layers=[{**layer, "x": 0.75}])

    assert not default_storage.exists(old_image)
    with default_storage.open(creation.image.name, "rb") as stored, Image.open(stored) as picture:
        assert picture.convert("RGB").getpixel((96, 48)) == (255, 0, 0)
    assert Creation.objects.get(id=creation.id).layers[0]["x"] == 0.75
