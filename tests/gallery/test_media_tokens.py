"""A program holding an API token opens the picture files its owner may see: the image URLs in
API answers and webhooks are for programs too."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.tokens import token_create, token_revoke
from gallery.media import media_url
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


def get(url: str, token: str | None = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().get(url, **headers)


def test_the_owners_token_opens_a_private_background_and_nobody_elses_does(alice: Any, bob: Any) -> None:
    url = media_url(drawn_background(alice).image.name)
    _, alices = token_create(user=alice, name="script")
    _, bobs = token_create(user=bob, name="script")

    assert get(url).status_code == 404
    assert get(url, alices).status_code == 200
    assert get(url, bobs).status_code == 404
    assert get(url, "wwt_" + "x" * 40).status_code == 404


def test_a_revoked_token_opens_nothing(alice: Any) -> None:
    url = media_url(drawn_background(alice).image.name)
    token, raw = token_create(user=alice, name="script")
    token_revoke(token=token)

    assert get(url, raw).status_code == 404
