"""With the cache (Redis) down, rate-limited actions still work: a limit is not worth an outage."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from accounts.models import User
from gallery import services
from gallery.models import Like, Report
from generation.models import Background
from tests.clients import api_client_for
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


@pytest.fixture
def background(alice: Any) -> Background:
    return drawn_background(alice)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def dead_cache(settings: Any) -> None:
    """A Redis cache where nothing listens: every cache call fails with a connection error."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    with pytest.raises(Exception):  # noqa: B017 - whichever redis error: the cache is really down
        cache.set("probe", 1)


def test_likes_and_reports_work_while_the_cache_is_down(
    alice: Any, bob: Any, background: Background, dead_cache: None
) -> None:
    made = services.creation_create(owner=alice, background=background, layers=[], visibility="public")
    api = api_client_for(bob)

    liked = api.post(f"/api/v1/creations/{made.id}/like/", {"liked": True}, format="json")
    reported = api.post(f"/api/v1/creations/{made.id}/report/", {"reason": "spam"}, format="json")

    assert liked.status_code == 200 and liked.json()["like_count"] == 1
    assert reported.status_code == 201
    assert Like.objects.filter(creation=made).count() == 1 and Report.objects.filter(creation=made).count() == 1


def test_signing_up_works_while_the_cache_is_down(dead_cache: None) -> None:
    response = Client().post(
        "/accounts/signup/",
        {"username": "dora", "password1": "correct horse battery", "password2": "correct horse battery"},
    )

    assert response.status_code == 302
    assert User.objects.filter(username="dora").exists()


def test_composing_works_while_the_cache_is_down(alice: Any, background: Background, dead_cache: None) -> None:
    response = api_client_for(alice).post(
        "/api/v1/creations/", {"background": background.id, "layers": []}, format="json"
    )

    assert response.status_code == 201
