"""The shipped characters: drawn by code, added once, never overwriting admin edits."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from PIL import Image

from gallery.characters import CHARACTERS, SOURCE, ensure_characters
from gallery.models import Character

pytestmark = pytest.mark.django_db


def test_it_adds_at_least_six_active_characters() -> None:
    added = ensure_characters()

    assert len(added) == len(CHARACTERS) >= 6
    assert Character.objects.filter(is_active=True, source=SOURCE).count() == len(CHARACTERS)
    assert len({character.slug for character in added}) == len(added)


def test_each_character_is_a_transparent_png_with_a_solid_middle() -> None:
    ensure_characters()

    for character in Character.objects.all():
        with character.image.open("rb") as stored, Image.open(stored) as image:
            assert image.format == "PNG", character.slug
            assert image.mode == "RGBA", character.slug
            assert image.size == (character.width, character.height), character.slug
            assert 480 <= image.height <= 540, character.slug
            w, h = image.size
            alpha = image.getchannel("A")
            corners = [alpha.getpixel(xy) for xy in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1))]
            assert corners == [0, 0, 0, 0], character.slug
            assert alpha.getpixel((w // 2, h // 2)) == 255, character.slug


def test_running_it_twice_adds_nothing() -> None:
    ensure_characters()

    assert ensure_characters() == []
    assert Character.objects.count() == len(CHARACTERS)


def test_it_leaves_admin_edits_alone() -> None:
    ensure_characters()
    Character.objects.filter(slug="pip").update(name="Sprouty", is_active=False, default_scale=0.5)

    ensure_characters()

    pip = Character.objects.get(slug="pip")
    assert (pip.name, pip.is_active, pip.default_scale) == ("Sprouty", False, 0.5)


def test_it_adds_back_only_the_missing_ones() -> None:
    ensure_characters()
    Character.objects.filter(slug="bolt").delete()

    assert [character.slug for character in ensure_characters()] == ["bolt"]


def test_the_command_says_how_many_it_added() -> None:
    out = StringIO()
    call_command("ensure_characters", stdout=out)
    call_command("ensure_characters", stdout=out)

    assert out.getvalue().splitlines() == [f"Added {len(CHARACTERS)} characters.", "Added 0 characters."]
