"""The server render is the truth: a known layer list renders known pixels."""

from __future__ import annotations

import io
import math
import random
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageChops

from gallery import services
from gallery.compositing import WORKING_HEIGHT, CutOut, Layer, parse_layers, render, upright
from gallery.models import Character, Creation
from generation.models import Background
from tests.factories import drawn_background

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
        ([{"character": "a", "x": 0.5, "y": 0.5, "scale": 0.3}] * 21, "At most 20 characters"),
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
def background(alice: Any) -> Background:
    return drawn_background(alice, kept=False, width=128, height=96, seed=5)


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


def naive_render(background: Image.Image, layers: list[Layer], characters: dict[str, Image.Image]) -> Image.Image:
    """The old way (with the new filter): every sprite resized whole, pasted on a full-size
    overlay, blended."""
    canvas = background.convert("RGBA")
    for _index, layer in sorted(enumerate(layers), key=lambda item: (item[1].z, item[0])):
        art = characters[layer.character]
        art_height = max(1, round(layer.scale * canvas.height))
        art_width = max(1, round(art.width * art_height / art.height))
        sprite = art.resize((art_width, art_height), Image.Resampling.BILINEAR)
        if layer.flip:
            sprite = sprite.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        overlay = Image.new("RGBA", canvas.size, (0, 0, 0, 0))
        overlay.paste(
            sprite, (round(layer.x * canvas.width - art_width / 2), round(layer.y * canvas.height - art_height / 2))
        )
        canvas = Image.alpha_composite(canvas, overlay)
    return canvas.convert("RGB")


def test_resizing_only_the_visible_part_gives_the_same_pixels_as_resizing_everything() -> None:
    rng = random.Random(7)
    background = Image.effect_noise((160, 120), 40).convert("RGB")
    characters = {"a": half_red_half_green(12, 24), "b": half_red_half_green(30, 16)}
    for _ in range(25):
        layers = [
            Layer(
                rng.choice("ab"),
                x=rng.uniform(-0.5, 1.5),
                y=rng.uniform(-0.5, 1.5),
                scale=rng.uniform(0.3, 2.0),  # all enlarging: the cut-outs are smaller than that
                flip=rng.random() < 0.5,
                z=rng.randrange(3),
            )
            for _ in range(4)
        ]

        fast, naive = render(background, layers, characters), naive_render(background, layers, characters)

        # Equal up to rounding in the 8-bit passes (a level or two on a few edge pixels).
        assert max(high for _low, high in ImageChops.difference(fast, naive).getextrema()) <= 2


def test_a_big_cut_out_is_kept_small_with_a_level_less_than_root_two_above_any_height() -> None:
    cut_out = CutOut(Image.new("RGBA", (3000, 4000), RED))

    assert (cut_out.height, cut_out.width) == (WORKING_HEIGHT, 768)
    for wanted in (17, 100, 333, 700, 1000, WORKING_HEIGHT):
        level = cut_out.level_for(wanted)
        assert wanted <= level.height < wanted * math.sqrt(2) + 1
    assert cut_out.level_for(2048).height == WORKING_HEIGHT  # enlarged from the largest


@pytest.mark.parametrize("image_format", ["PNG", "JPEG"])
def test_a_cut_out_stored_sideways_with_an_exif_orientation_is_drawn_upright(image_format: str) -> None:
    upright_art = Image.new("RGB", (10, 20), RED[:3])
    upright_art.paste(GREEN[:3], (0, 10, 10, 20))  # red on top, green below
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view": how phones store portrait photos
    buffer = io.BytesIO()
    upright_art.transpose(Image.Transpose.ROTATE_90).save(buffer, format=image_format, exif=exif)

    with Image.open(io.BytesIO(buffer.getvalue())) as stored:
        assert stored.size == (20, 10)
        cut_out = CutOut(upright(stored))
        picture = render(Image.new("RGB", (100, 100), BLUE[:3]), [Layer("a", x=0.5, y=0.5, scale=0.4)], {"a": cut_out})

    assert (cut_out.width, cut_out.height) == (10, 20)
    top, bottom = picture.getpixel((50, 40)), picture.getpixel((50, 60))
    assert top[0] > 200 and top[1] < 60  # red above
    assert bottom[1] > 200 and bottom[0] < 60  # green below


def test_the_layer_cap_comes_from_the_settings(settings: Any) -> None:
    settings.WEE_WAA_MAX_LAYERS = 3
    layer = {"character": "a", "x": 0.5, "y": 0.5, "scale": 0.3}

    assert len(parse_layers([layer] * 3, ["a"])) == 3
    with pytest.raises(ValidationError, match="At most 3 characters fit in one picture"):
        parse_layers([layer] * 4, ["a"])


@pytest.mark.django_db
def test_a_stored_sideways_character_is_rendered_upright_in_a_creation(alice: Any, background: Background) -> None:
    upright_art = Image.new("RGBA", (10, 20), RED)
    upright_art.paste(GREEN, (0, 10, 10, 20))
    exif = Image.Exif()
    exif[0x0112] = 8  # "rotate 90° counter-clockwise to view"
    buffer = io.BytesIO()
    upright_art.transpose(Image.Transpose.ROTATE_270).save(buffer, format="PNG", exif=exif)
    character = Character(slug="turned", name="Turned", width=10, height=20)
    character.image.save("turned.png", ContentFile(buffer.getvalue()), save=False)
    character.save()

    creation = services.creation_create(
        owner=alice, background=background, layers=[{"character": character.id, "x": 0.5, "y": 0.5, "scale": 0.5}]
    )

    with default_storage.open(creation.image.name, "rb") as stored, Image.open(stored) as picture:
        rgb = picture.convert("RGB")
        assert rgb.getpixel((64, 40)) == (255, 0, 0)  # 48 px tall, centred at y 48: red on top
        assert rgb.getpixel((64, 56)) == (0, 255, 0)


@pytest.mark.django_db
def test_a_background_past_the_pixel_limit_is_refused_with_the_limit_named(
    alice: Any, background: Background, settings: Any
) -> None:
    settings.WEE_WAA_MAX_RENDER_PIXELS = 128 * 96 - 1

    with pytest.raises(ValidationError) as refused:
        services.creation_create(owner=alice, background=background, layers=[])

    assert "too large to draw on: at most 12,287 pixels" in refused.value.messages[0]
    assert not Creation.objects.exists()
