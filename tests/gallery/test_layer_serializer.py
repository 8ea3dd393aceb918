"""The creations API checks each layer field by field, with the limits the compositor keeps,
and answers which layer and which field is wrong."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.base import ContentFile
from PIL import Image
from rest_framework.test import APIClient

from gallery.models import Character, Creation
from generation.models import Background
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


@pytest.fixture
def kept(alice: Any) -> Background:
    return drawn_background(alice)


@pytest.fixture
def dot(db: None) -> Character:
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (255, 0, 0, 255)).save(buffer, format="PNG")
    character = Character(slug="dot", name="Dot", width=8, height=8, default_scale=0.4)
    character.image.save("dot.png", ContentFile(buffer.getvalue()), save=False)
    character.save()
    return character


def create(api: APIClient, background: Background, layers: Any) -> Any:
    return api.post("/api/v1/creations/", {"background": background.id, "layers": layers}, format="json")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("x", "left"),
        ("x", "0.5"),
        ("y", 1.6),
        ("scale", 0.0),
        ("scale", True),
        ("flip", "yes"),
        ("z", 1.5),
        ("z", 10_001),
    ],
)
def test_a_bad_field_is_named_with_its_layer(
    alice_api: APIClient, kept: Background, dot: Character, field: str, value: Any
) -> None:
    good = {"character": dot.id, "x": 0.5, "y": 0.5, "scale": 0.3}

    response = create(alice_api, kept, [good, {**good, field: value}])

    assert response.status_code == 400
    errors = response.json()["layers"]  # by the list's index, only the layers in error
    assert list(errors) == ["1"] and list(errors["1"]) == [field]
    assert not Creation.objects.exists()


def test_a_missing_field_is_named_too(alice_api: APIClient, kept: Background, dot: Character) -> None:
    response = create(alice_api, kept, [{"character": dot.id, "x": 0.5, "y": 0.5}])

    assert response.status_code == 400
    assert list(response.json()["layers"]["0"]) == ["scale"]


def test_layers_that_are_not_a_list_are_refused_on_the_layers_field(alice_api: APIClient, kept: Background) -> None:
    response = create(alice_api, kept, "nope")

    assert response.status_code == 400
    assert "layers" in response.json()


def test_an_unknown_character_is_still_refused_by_the_service(alice_api: APIClient, kept: Background) -> None:
    response = create(alice_api, kept, [{"character": "nobody", "x": 0.5, "y": 0.5, "scale": 0.3}])

    assert response.status_code == 400
    assert response.json()["detail"] == ["Layer 1: unknown character."]


def test_valid_layers_are_stored_with_flip_defaulted_and_z_in_list_order(
    alice_api: APIClient, kept: Background, dot: Character
) -> None:
    layers = [
        {"character": dot.id, "x": 0.25, "y": 0.5, "scale": 0.3},
        {"character": dot.id, "x": 0.75, "y": 0.5, "scale": 0.3, "flip": True, "z": -1},
    ]

    response = create(alice_api, kept, layers)

    assert response.status_code == 201
    assert response.json()["layers"] == [
        {"character": dot.id, "x": 0.25, "y": 0.5, "scale": 0.3, "flip": False, "z": 1},
        {"character": dot.id, "x": 0.75, "y": 0.5, "scale": 0.3, "flip": True, "z": -1},
    ]


def test_an_edit_checks_its_layers_the_same_way(alice_api: APIClient, kept: Background, dot: Character) -> None:
    created = create(alice_api, kept, []).json()

    response = alice_api.patch(
        f"/api/v1/creations/{created['id']}/",
        {"layers": [{"character": dot.id, "x": 0.5, "y": 0.5, "scale": 9}]},
        format="json",
    )

    assert response.status_code == 400
    assert list(response.json()["layers"]["0"]) == ["scale"]


def test_the_character_list_names_each_active_cut_out_with_its_size(alice_api: APIClient, dot: Character) -> None:
    Character.objects.create(slug="gone", name="Gone", image="characters/gone.png", is_active=False)

    response = alice_api.get("/api/v1/characters/")

    assert response.json() == [
        {
            "id": dot.id,
            "name": "Dot",
            "image": f"/media/{dot.image.name}",
            "width": 8,
            "height": 8,
            "default_scale": 0.4,
        }
    ]
