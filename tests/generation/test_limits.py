"""Queue limits: over them the API answers 429 with a message, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from generation.events import JobStatus
from generation.models import GenerationJob
from tests.factories import queue_job

pytestmark = pytest.mark.django_db

JOB = {"prompt": "Springfield at sunset", "width": 64, "height": 64, "steps": 2}


def test_a_user_over_their_limit_of_unfinished_jobs_gets_429(alice_api: APIClient, alice: Any, settings: Any) -> None:
    settings.WEE_WAA_MAX_UNFINISHED_PER_USER = 2
    assert alice_api.post("/api/v1/jobs/", JOB, format="json").status_code == 201
    assert alice_api.post("/api/v1/jobs/", JOB, format="json").status_code == 201

    response = alice_api.post("/api/v1/jobs/", JOB, format="json")

    assert response.status_code == 429
    assert "You already have 2 pictures waiting or being drawn" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    assert GenerationJob.objects.filter(owner=alice).count() == 2


def test_finished_jobs_do_not_count_against_the_limit(alice_api: APIClient, alice: Any, settings: Any) -> None:
    settings.WEE_WAA_MAX_UNFINISHED_PER_USER = 1
    done = queue_job(alice)
    GenerationJob.objects.filter(id=done.id).update(status=JobStatus.SUCCEEDED)

    assert alice_api.post("/api/v1/jobs/", JOB, format="json").status_code == 201


def test_a_full_queue_refuses_everybody_with_429(alice_api: APIClient, bob: Any, alice: Any, settings: Any) -> None:
    settings.WEE_WAA_MAX_QUEUE = 2
    queue_job(bob)
    queue_job(bob)

    response = alice_api.post("/api/v1/jobs/", JOB, format="json")

    assert response.status_code == 429
    assert "very busy" in response.json()["detail"]
    assert not GenerationJob.objects.filter(owner=alice).exists()


def test_the_limit_message_is_translated(alice_api: APIClient, settings: Any) -> None:
    settings.WEE_WAA_MAX_QUEUE = 1
    alice_api.post("/api/v1/jobs/", JOB, format="json")

    response = alice_api.post("/api/v1/jobs/", JOB, format="json", HTTP_ACCEPT_LANGUAGE="ko")

    assert response.status_code == 429
    assert "very busy" not in response.json()["detail"]
