from __future__ import annotations

from typing import Any

import pytest

from generation.models import Background
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


def _keep_all(owner: Any, count: int) -> list[Background]:
    return [drawn_background(owner, prompt=f"scene {n}", kept=True) for n in range(count)]


def test_an_empty_gallery_points_to_the_studio(client: Any, alice: Any) -> None:
    client.force_login(alice)

    response = client.get("/gallery/")

    assert response.status_code == 200
    assert 'href="/studio/"' in response.content.decode()
    assert list(response.context["page"]) == []


def test_the_gallery_shows_kept_backgrounds_newest_first_with_provenance(client: Any, alice: Any, bob: Any) -> None:
    mine = _keep_all(alice, 2)
    _keep_all(bob, 1)
    drawn_background(alice, prompt="not kept", kept=False)
    client.force_login(alice)

    response = client.get("/gallery/")

    assert list(response.context["page"]) == list(reversed(mine))
    html = response.content.decode()
    assert "scene 1" in html and "scene 0" in html and "not kept" not in html
    assert str(mine[0].seed) in html
    assert "Springfield-style cartoon" in html


def test_the_gallery_is_paginated(client: Any, alice: Any) -> None:
    _keep_all(alice, 13)
    client.force_login(alice)

    first = client.get("/gallery/")
    second = client.get(first.context["page"].next_url)

    assert len(first.context["page"]) == 12
    assert len(second.context["page"]) == 1 and second.context["page"].next_url == ""
    assert client.get("/gallery/?page=99").status_code == 200  # an old page number shows the start
