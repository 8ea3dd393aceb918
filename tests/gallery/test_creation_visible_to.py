"""One selector answers "may this viewer see this creation?" for pages, the API and remixes:
by id, with or without the share link's token, and ``None`` whatever the reason it may not."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from gallery import selectors, services
from gallery.models import Creation
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


@pytest.fixture
def unlisted(alice: Any) -> Creation:
    return services.creation_create(owner=alice, background=drawn_background(alice), layers=[], visibility="unlisted")


def test_an_unlisted_creation_is_seen_with_its_token_only(unlisted: Creation, bob: Any) -> None:
    assert selectors.creation_visible_to(bob, unlisted.id) is None
    assert selectors.creation_visible_to(bob, unlisted.id, "not-the-token") is None
    assert selectors.creation_visible_to(AnonymousUser(), unlisted.id, unlisted.share_token) == unlisted
    assert selectors.creation_shared_to(None, unlisted.share_token) == unlisted


def test_a_token_does_not_open_a_private_creation(unlisted: Creation, bob: Any) -> None:
    services.creation_visibility_set(creation=unlisted, visibility="private")

    assert selectors.creation_visible_to(bob, unlisted.id, unlisted.share_token) is None
    assert selectors.creation_shared_to(bob, unlisted.share_token) is None


def test_the_owner_sees_their_own_and_an_unknown_id_is_none(unlisted: Creation, alice: Any) -> None:
    assert selectors.creation_visible_to(alice, unlisted.id) == unlisted
    assert selectors.creation_visible_to(alice, "no-such-id") is None


def test_only_the_owner_gets_a_creation_to_change(unlisted: Creation, alice: Any, bob: Any) -> None:
    assert selectors.creation_owned_by(alice, unlisted.id) == unlisted
    assert selectors.creation_owned_by(bob, unlisted.id) is None
    assert selectors.creation_owned_by(AnonymousUser(), unlisted.id) is None
