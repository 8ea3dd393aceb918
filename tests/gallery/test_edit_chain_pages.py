"""My pictures links each kept background to its edit in the studio, and edited ones to their chain."""

from __future__ import annotations

from typing import Any

import pytest

from tests.clients import page_client_for
from tests.factories import drawn_background
from tests.gallery.test_edit_chain import edited

pytestmark = pytest.mark.django_db


def test_my_pictures_offers_edit_on_every_kept_background_and_marks_edited_ones(alice: Any) -> None:
    drawn = drawn_background(alice, prompt="a quiet street")
    snowy = edited(alice, drawn, "make it snowy")
    snowy.kept_at = drawn.kept_at
    snowy.save()

    page = page_client_for(alice).get("/gallery/").content.decode()

    assert f"/studio/?edit={drawn.id}" in page and f"/studio/?edit={snowy.id}" in page
    assert "Edited: see how it was made" in page


def test_the_studio_in_edit_mode_shows_the_source_strength_and_mask_painter(alice: Any) -> None:
    drawn = drawn_background(alice, prompt="a quiet street")
    snowy = edited(alice, drawn, "make it snowy")

    page = page_client_for(alice).get(f"/studio/?edit={snowy.id}").content.decode()

    assert 'id="edit-panel"' in page and f'data-source-id="{snowy.id}"' in page
    assert 'id="mask-canvas"' in page and 'id="strength"' in page
    assert "How this picture was made" in page and "a quiet street" in page
    assert 'class="button button-small chain-keep"' in page
