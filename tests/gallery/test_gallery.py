from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from generation.manager.worker import ModelManager
from generation.models import Background
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


def _keep_all(owner: Any, manager: ModelManager, count: int) -> list[Background]:
    for n in range(count):
        queue_job(owner, prompt=f"scene {n}")
    manager.run_until_idle()
    kept = list(Background.objects.filter(job__owner=owner).order_by("job__created_at"))
    for image in kept:
        image.kept_at = timezone.now()
        image.save(update_fields=["kept_at"])
    return kept


def test_an_empty_gallery_points_to_the_studio(client: Any, alice: Any) -> None:
    client.force_login(alice)

    response = client.get("/gallery/")

    assert response.status_code == 200
    assert 'href="/studio/"' in response.content.decode()
    assert list(response.context["page"]) == []


def test_the_gallery_shows_kept_backgrounds_newest_first_with_provenance(
    client: Any, alice: Any, bob: Any, manager: ModelManager
) -> None:
    mine = _keep_all(alice, manager, 2)
    _keep_all(bob, manager, 1)
    queue_job(alice, prompt="not kept")
    manager.run_until_idle()
    client.force_login(alice)

    response = client.get("/gallery/")

    assert list(response.context["page"]) == list(reversed(mine))
    html = response.content.decode()
    assert "scene 1" in html and "scene 0" in html and "not kept" not in html
    assert str(mine[0].seed) in html
    assert "Springfield-style cartoon" in html


def test_the_gallery_is_paginated(client: Any, alice: Any, manager: ModelManager, settings: Any) -> None:
    settings.WEE_WAA_MAX_UNFINISHED_PER_USER = 20
    _keep_all(alice, manager, 13)
    client.force_login(alice)

    first, second = client.get("/gallery/"), client.get("/gallery/?page=2")

    assert len(first.context["page"]) == 12
    assert len(second.context["page"]) == 1
    assert client.get("/gallery/?page=99").status_code == 200  # out of range shows the last page
