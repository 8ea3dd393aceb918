"""Explore and profile pages by cursor: Previous and Next links that keep the order, and a bad
cursor answered with a 400 that says why and shows the start of the list."""

from __future__ import annotations

import base64
import html
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from gallery import services
from gallery.models import Creation
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


@pytest.fixture
def thirteen(alice: Any) -> list[Creation]:
    background = drawn_background(alice, kept=False)
    made = [
        services.creation_create(owner=alice, background=background, layers=[], visibility="public") for _ in range(13)
    ]
    Creation.objects.update(created_at=timezone.now())  # ties: only the id keeps the order total
    for index, creation in enumerate(made):
        Creation.objects.filter(id=creation.id).update(like_count=index % 3)
    return made


def _ids(page: str) -> list[str]:
    return re.findall(r'data-creation-id="([^"]+)"', page)


def _link(page: str, kind: str) -> str | None:
    found = re.search(rf'class="[^"]*\b{kind}-page\b[^"]*" rel="\w+" href="([^"]+)"', page)
    return html.unescape(found.group(1)) if found else None


@pytest.mark.parametrize("path", ["/explore/", "/u/alice/"])
def test_next_and_previous_links_walk_the_list_and_keep_its_order(thirteen: list[Creation], path: str) -> None:
    client = Client()
    first = client.get(f"{path}?order=liked").content.decode()
    next_url = _link(first, "next")

    assert next_url is not None and next_url.startswith(path) and "order=liked" in next_url
    assert _link(first, "previous") is None
    second = client.get(next_url).content.decode()
    assert len(_ids(first)) == 12 and len(_ids(second)) == 1
    assert set(_ids(first)) | set(_ids(second)) == {creation.id for creation in thirteen}
    assert _link(second, "next") is None
    previous_url = _link(second, "previous")
    assert previous_url is not None and "order=liked" in previous_url
    assert _ids(client.get(previous_url).content.decode()) == _ids(first)


def test_a_creation_shared_between_pages_is_not_shown_twice(thirteen: list[Creation], alice: Any) -> None:
    client = Client()
    first = client.get("/explore/").content.decode()
    services.creation_create(owner=alice, background=thirteen[0].background, layers=[], visibility="public")

    next_url = _link(first, "next")
    assert next_url is not None
    second = client.get(next_url).content.decode()

    assert not set(_ids(first)) & set(_ids(second))
    assert set(_ids(first)) | set(_ids(second)) == {creation.id for creation in thirteen}


FORGED = {
    "not base64": "%%%not-base64",
    "the old format, unsigned": base64.urlsafe_b64encode(b'[1, "2024-05-01T12:00:00+00:00", "AAAA"]').decode(),
    "a DRF cursor": base64.urlsafe_b64encode(b"p=0001-01-01T00%3A00%3A00%2B14%3A00").decode(),
    "5,000 characters": "a" * 5000,
    "a forged signature": "WyJuIiwxXQ:" + "A" * 43,
}


@pytest.mark.parametrize("path", ["/explore/", "/u/alice/"])
@pytest.mark.parametrize("order", ["liked", "newest"])
def test_a_forged_cursor_is_a_400_that_says_why_and_shows_the_start(
    thirteen: list[Creation], path: str, order: str
) -> None:
    client = Client()
    page_one = _ids(client.get(f"{path}?order={order}").content.decode())
    failures = {}
    for kind, cursor in FORGED.items():
        response = client.get(path, {"order": order, "cursor": cursor})
        body = response.content.decode()
        if response.status_code != 400 or _ids(body) != page_one or 'id="page-error"' not in body:
            failures[kind] = response.status_code

    assert len(page_one) == 12
    assert failures == {}


def test_a_cursor_for_one_order_is_refused_by_the_other(thirteen: list[Creation]) -> None:
    client = Client()
    next_url = _link(client.get("/explore/?order=liked").content.decode(), "next")
    assert next_url is not None

    response = client.get(next_url.replace("order=liked", "order=newest"))

    assert response.status_code == 400
    assert "This page link is not valid" in response.content.decode()


def test_a_link_to_a_page_emptied_since_offers_the_way_back(thirteen: list[Creation]) -> None:
    client = Client()
    first = client.get("/explore/").content.decode()
    next_url = _link(first, "next")
    assert next_url is not None
    Creation.objects.exclude(id__in=_ids(first)).delete()

    response = client.get(next_url)

    assert response.status_code == 200
    assert 'id="page-gone"' in response.content.decode()
    assert 'href="/explore/?order=newest"' in response.content.decode()


def test_the_page_links_speak_korean(thirteen: list[Creation]) -> None:
    client = Client()
    first = client.get("/explore/", headers={"accept-language": "ko"}).content.decode()
    next_url = _link(first, "next")
    assert next_url is not None

    second = client.get(next_url, headers={"accept-language": "ko"}).content.decode()

    assert "다음" in first and 'rel="next"' in first
    assert "이전" in second and "Previous" not in second
