"""HEAD answers as GET does: link checkers, proxies and `curl -I` must not meet a 405."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gallery import services
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


def test_every_public_page_answers_head_as_it_answers_get(alice: Any) -> None:
    made = services.creation_create(owner=alice, background=drawn_background(alice), layers=[], visibility="public")
    pages = [
        "/",
        "/explore/",
        f"/u/{alice.username}/",
        f"/c/{made.id}/",
        f"/s/{made.share_token}/",
        made.image.url,
        "/accounts/login/",
        "/accounts/signup/",
        "/healthz",
    ]
    client = Client()

    for page in pages:
        got, head = client.get(page), client.head(page)
        assert head.status_code == got.status_code != 405, page
