"""Explore pages by cursor: newest and most liked, stable with ties, and a bad cursor is page one."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from gallery import services
from gallery.models import Creation
from gallery.pagination import keyset_page
from generation.manager.worker import ModelManager
from generation.models import Background
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def thirteen(alice: Any, manager: ModelManager) -> list[Creation]:
    queue_job(alice, width=64, height=64)
    manager.run_once()
    background = Background.objects.get(job__owner=alice)
    made = [
        services.creation_create(owner=alice, background=background, layers=[], visibility="public") for _ in range(13)
    ]
    # All at one instant: only the id tiebreaker keeps the order total.
    Creation.objects.update(created_at=timezone.now())
    for index, creation in enumerate(made):
        Creation.objects.filter(id=creation.id).update(like_count=index % 3)
    return made


def all_pages(order: str) -> list[str]:
    seen, cursor = [], None
    while True:
        page = keyset_page(Creation.objects.all(), order, cursor, 5)
        seen += [creation.id for creation in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen


@pytest.mark.parametrize("order", ["newest", "liked"])
def test_paging_visits_every_creation_once_in_order_even_with_ties(thirteen: list[Creation], order: str) -> None:
    seen = all_pages(order)

    assert sorted(seen) == sorted(creation.id for creation in thirteen)
    expected = Creation.objects.order_by(*(["-like_count"] if order == "liked" else []), "-created_at", "-id")
    assert seen == [creation.id for creation in expected]


def test_the_explore_page_links_to_the_next_page_and_survives_a_bad_cursor(thirteen: list[Creation]) -> None:
    client = Client()
    first = client.get("/explore/?order=liked").content.decode()
    next_link = re.search(r'class="next-page" href="([^"]+)"', first)

    assert next_link is not None
    second = client.get("/explore/" + next_link.group(1).replace("&amp;", "&")).content.decode()
    assert second.count("data-creation-id") == 1
    assert client.get("/explore/?cursor=%%%not-base64").status_code == 200
