"""The jobs API: create, read, list and keep — each user sees only their own."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from generation.manager.worker import ModelManager
from generation.models import Background, GenerationJob, Style
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


def test_it_creates_a_queued_job_with_a_random_string_id(alice_api: APIClient, alice: Any) -> None:
    response = alice_api.post("/api/v1/jobs/", {"prompt": "  Springfield at sunset  "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "queued"
    assert isinstance(body["id"], str) and len(body["id"]) >= 16 and not body["id"].isdigit()
    job = GenerationJob.objects.get(id=body["id"])
    assert job.owner == alice
    assert job.prompt == "Springfield at sunset"
    assert "Springfield at sunset" in job.full_prompt
    assert job.style is not None and job.style.is_default
    assert (job.width, job.height, job.count) == (512, 512, 1)
    assert isinstance(body["seed"], int)


def test_it_keeps_every_option_given(alice_api: APIClient) -> None:
    style = Style.objects.get(is_default=True)
    payload = {"prompt": "harbour", "count": 4, "width": 256, "height": 128, "steps": 7, "seed": 42, "style": style.id}

    body = alice_api.post("/api/v1/jobs/", payload, format="json").json()

    assert {key: body[key] for key in payload} == payload


def test_a_finished_job_lists_its_images(alice_api: APIClient, alice: Any, manager: ModelManager) -> None:
    job = queue_job(alice, count=2, seed=5)
    manager.run_once()

    body = alice_api.get(f"/api/v1/jobs/{job.id}/").json()

    assert body["status"] == "succeeded"
    assert body["progress"] == 1.0
    assert [image["seed"] for image in body["images"]] == [5, 6]
    assert all(image["url"].endswith(".png") for image in body["images"])
    assert alice_api.get(body["images"][0]["url"]).status_code == 200


def test_the_list_is_the_callers_own_newest_first_and_paginated(alice_api: APIClient, alice: Any, bob: Any) -> None:
    mine = [queue_job(alice, prompt=f"scene {n}") for n in range(3)]
    queue_job(bob, prompt="not yours")

    first = alice_api.get("/api/v1/jobs/?page_size=2").json()
    second = alice_api.get(first["next"]).json()

    assert [job["id"] for job in first["results"] + second["results"]] == [job.id for job in reversed(mine)]
    assert second["next"] is None


def test_another_users_job_is_not_found(alice_api: APIClient, bob: Any) -> None:
    job = queue_job(bob)

    assert alice_api.get(f"/api/v1/jobs/{job.id}/").status_code == 404
    assert alice_api.post(f"/api/v1/jobs/{job.id}/keep/", {"image": "x"}, format="json").status_code == 404


def test_keeping_a_candidate_puts_it_in_the_gallery(alice_api: APIClient, alice: Any, manager: ModelManager) -> None:
    job = queue_job(alice, count=2)
    manager.run_once()
    image = job.images.order_by("index").last()
    assert image is not None

    response = alice_api.post(f"/api/v1/jobs/{job.id}/keep/", {"image": image.id}, format="json")

    assert response.status_code == 200
    assert response.json()["image"]["kept"] is True
    assert list(Background.objects.filter(kept_at__isnull=False)) == [image]
    assert alice_api.post(f"/api/v1/jobs/{job.id}/keep/", {"image": image.id}, format="json").status_code == 200


def test_keeping_another_users_image_is_not_found(
    alice_api: APIClient, alice: Any, bob: Any, manager: ModelManager
) -> None:
    mine, theirs = queue_job(alice), queue_job(bob)
    manager.run_until_idle()
    their_image = theirs.images.get()

    response = alice_api.post(f"/api/v1/jobs/{mine.id}/keep/", {"image": their_image.id}, format="json")

    assert response.status_code == 404
    assert Background.objects.filter(kept_at__isnull=False).count() == 0


def test_anonymous_callers_are_refused(client: Any, db: None) -> None:
    assert client.get("/api/v1/jobs/").status_code in (401, 403)
    response = client.post("/api/v1/jobs/", {"prompt": "x"}, content_type="application/json")
    assert response.status_code in (401, 403)
    assert GenerationJob.objects.count() == 0


def test_a_post_without_the_csrf_token_is_refused(alice: Any) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post("/api/v1/jobs/", {"prompt": "x"}, format="json")

    assert response.status_code == 403
    assert GenerationJob.objects.count() == 0


def test_queueing_a_job_finds_its_place_once_without_reading_the_whole_queue(
    alice_api: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generation import api, queueing, services

    places: list[int] = []
    whole_queue: list[int] = []

    def counted_place(job: Any) -> queueing.Places:
        places.append(1)
        return queueing.place_of(job)

    def counted_queue(rate: float | None = None) -> queueing.Places:
        whole_queue.append(1)
        return queueing.queue_places(rate)

    monkeypatch.setattr(services, "place_of", counted_place)
    monkeypatch.setattr(api, "place_of", counted_place)
    monkeypatch.setattr(api, "queue_places", counted_queue)

    response = alice_api.post("/api/v1/jobs/", {"prompt": "a lighthouse", "width": 64, "height": 64}, format="json")

    assert response.status_code == 201 and response.json()["position"] == 1
    assert (len(places), len(whole_queue)) == (1, 0)
