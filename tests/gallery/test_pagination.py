"""Pages of kept backgrounds (/gallery/): the same cursors as every list, so a picture kept
while someone reads page one neither repeats nor hides a row, and a bad cursor is a 400."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from generation.models import Background
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


def _ids(page: str) -> list[str]:
    return re.findall(r'data-background-id="([^"]+)"', page)


def _link(page: str, kind: str) -> str | None:
    found = re.search(rf'class="[^"]*\b{kind}-page\b[^"]*" rel="\w+" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


@pytest.fixture
def thirteen_kept(alice: Any) -> list[Background]:
    return [drawn_background(alice, prompt=f"scene {n}") for n in range(13)]


def test_a_background_kept_between_pages_neither_repeats_nor_hides_one(
    client: Any, alice: Any, thirteen_kept: list[Background]
) -> None:
    client.force_login(alice)
    first = client.get("/gallery/").content.decode()
    newcomer = drawn_background(alice, prompt="kept while reading")

    next_url = _link(first, "next")
    assert next_url is not None and "page=" not in next_url
    second = client.get(next_url).content.decode()
    previous_url = _link(second, "previous")
    assert previous_url is not None
    back = client.get(previous_url).content.decode()

    assert sorted(_ids(first) + _ids(second)) == sorted(background.id for background in thirteen_kept)
    assert _ids(back) == _ids(first)
    above = _link(back, "previous")  # the newcomer waits above what was read
    assert above is not None and _ids(client.get(above).content.decode()) == [newcomer.id]


@pytest.mark.parametrize("cursor", ["garbage", "%25%25", "a" * 5000, "WyJuIl0:" + "A" * 43, "%ED%A0%80"])
def test_a_forged_cursor_is_a_400_that_shows_the_first_page(
    client: Any, alice: Any, thirteen_kept: list[Background], cursor: str
) -> None:
    client.force_login(alice)
    page_one = _ids(client.get("/gallery/").content.decode())

    response = client.get(f"/gallery/?cursor={cursor}")

    assert response.status_code == 400
    body = response.content.decode()
    assert _ids(body) == page_one and len(page_one) == 12
    assert 'id="page-error"' in body and 'href="/gallery/"' in body


def test_one_users_cursor_pages_only_their_own_backgrounds(
    client: Any, alice: Any, bob: Any, thirteen_kept: list[Background]
) -> None:
    """A cursor is a position, not a permission: bob following alice's link sees his own list."""
    drawn_background(bob, prompt="bob's")
    client.force_login(alice)
    next_url = _link(client.get("/gallery/").content.decode(), "next")
    assert next_url is not None
    client.force_login(bob)

    response = client.get(next_url)

    assert response.status_code == 200
    assert not set(_ids(response.content.decode())) & {background.id for background in thirteen_kept}
