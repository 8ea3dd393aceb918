"""What one account may ask of the server: layers, render rate, renders at once, pictures stored."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient

from gallery import limits
from gallery.models import Creation
from generation.models import Background
from tests.factories import drawn_backgrounds

pytestmark = pytest.mark.django_db


@pytest.fixture
def candidates(alice: Any) -> list[Background]:
    """Two pictures from one job; the first is kept, so alice stores one picture."""
    return drawn_backgrounds(alice, count=2, kept=True)


@pytest.fixture
def kept(candidates: list[Background]) -> Background:
    return candidates[0]


def create(api: APIClient, background: Background, layers: Any = ()) -> Any:
    return api.post("/api/v1/creations/", {"background": background.id, "layers": list(layers)}, format="json")


def test_it_refuses_more_characters_than_the_limit_with_the_limit_named(
    alice_api: APIClient, kept: Background, settings: Any
) -> None:
    settings.WEE_WAA_MAX_LAYERS = 2
    layer = {"character": "whoever", "x": 0.5, "y": 0.5, "scale": 0.3}

    response = create(alice_api, kept, [layer] * 3)

    assert response.status_code == 400
    assert "At most 2 characters fit in one picture." in response.json()["detail"]
    assert not Creation.objects.exists()


def test_a_user_who_renders_too_fast_gets_429_with_retry_after_and_others_do_not(
    alice_api: APIClient, bob: Any, kept: Background, settings: Any
) -> None:
    settings.WEE_WAA_RENDERS_PER_MINUTE = 3
    first = create(alice_api, kept)
    creation_id = first.json()["id"]
    edit = alice_api.patch(f"/api/v1/creations/{creation_id}/", {"layers": []}, format="json")
    remix = alice_api.post(f"/api/v1/creations/{creation_id}/remix/", {}, format="json")
    retitle = alice_api.patch(f"/api/v1/creations/{creation_id}/", {"title": "No render"}, format="json")

    refused = [
        create(alice_api, kept),
        alice_api.patch(f"/api/v1/creations/{creation_id}/", {"layers": []}, format="json"),
        alice_api.post(f"/api/v1/creations/{creation_id}/remix/", {}, format="json"),
    ]

    assert [first.status_code, edit.status_code, remix.status_code, retitle.status_code] == [201, 200, 201, 200]
    for response in refused:
        assert response.status_code == 429
        assert "too fast: at most 3 renders a minute" in response.json()["detail"]
        assert 1 <= int(response["Retry-After"]) <= 61
    assert Creation.objects.filter(owner__username="alice").count() == 2
    limits.render_rate_check(user_id=bob.pk)  # bob's count is his own: no refusal


def test_at_most_the_configured_number_of_renders_run_at_once(settings: Any) -> None:
    settings.WEE_WAA_RENDER_CONCURRENCY = 2
    settings.WEE_WAA_RENDER_WAIT_SECONDS = 10
    active, most, lock = [0], [0], threading.Lock()

    def one_render() -> None:
        with limits.render_slot():
            with lock:
                active[0] += 1
                most[0] = max(most[0], active[0])
            time.sleep(0.05)
            with lock:
                active[0] -= 1

    threads = [threading.Thread(target=one_render) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert most[0] == 2


def test_a_render_waits_for_a_slot_that_frees_in_time(settings: Any) -> None:
    settings.WEE_WAA_RENDER_CONCURRENCY = 1
    settings.WEE_WAA_RENDER_WAIT_SECONDS = 5
    holding = threading.Event()

    def hold_briefly() -> None:
        with limits.render_slot():
            holding.set()
            time.sleep(0.2)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    holding.wait()
    started = time.monotonic()
    with limits.render_slot():
        waited = time.monotonic() - started
    holder.join()

    assert 0.1 < waited < 5


def test_when_every_render_slot_is_busy_the_api_answers_503_with_retry_after(
    alice_api: APIClient, kept: Background, settings: Any
) -> None:
    settings.WEE_WAA_RENDER_CONCURRENCY = 2
    settings.WEE_WAA_RENDER_WAIT_SECONDS = 0.1

    with limits.render_slot(), limits.render_slot():  # two long renders in progress
        busy = create(alice_api, kept)
    after = create(alice_api, kept)

    assert busy.status_code == 503
    assert busy.json()["detail"].startswith("The server is busy drawing other pictures. Try again in")
    assert busy["Retry-After"] == "1"
    assert after.status_code == 201
    assert Creation.objects.count() == 1
    assert len(default_storage.listdir("creations")[1]) == 1  # the refused one wrote no file


def test_a_full_account_cannot_create_remix_or_keep_and_is_told_how_to_make_room(
    alice_api: APIClient, candidates: list[Background], settings: Any
) -> None:
    settings.WEE_WAA_MAX_PICTURES_PER_USER = 2
    kept, candidate = candidates
    creation_id = create(alice_api, kept).json()["id"]  # one kept background + one creation: full

    refusals = [
        create(alice_api, kept),
        alice_api.post(f"/api/v1/creations/{creation_id}/remix/", {}, format="json"),
        alice_api.post(f"/api/v1/jobs/{kept.job_id}/keep/", {"image": candidate.id}, format="json"),
    ]
    keeping_again = alice_api.post(f"/api/v1/jobs/{kept.job_id}/keep/", {"image": kept.id}, format="json")

    for response in refusals:
        assert response.status_code == 409
        assert "may store at most 2 pictures" in response.json()["detail"]
        assert "Make room in My pictures" in response.json()["detail"]
    assert keeping_again.status_code == 200  # already kept: nothing new is stored
    assert Background.objects.get(id=candidate.id).kept_at is None
    assert limits.stored_pictures(user_id=kept.job.owner_id) == 2

    assert alice_api.delete(f"/api/v1/creations/{creation_id}/").status_code == 204
    assert create(alice_api, kept).status_code == 201
