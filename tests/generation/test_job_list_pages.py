"""The job list's pages (GET /api/v1/jobs/): the site's one cursor scheme behind DRF's
``{"next", "previous", "results"}``, page sizes within bounds, and a bad cursor a 404 in words."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from rest_framework.test import APIClient

from generation.models import GenerationJob
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


def _jobs(owner: Any, count: int) -> list[GenerationJob]:
    """Rows only (no queue, no limits): the list reads what is there."""
    return GenerationJob.objects.bulk_create(
        GenerationJob(owner=owner, prompt=f"scene {n}", full_prompt="x", seed=n, steps=1, width=64, height=64, count=1)
        for n in range(count)
    )


def _walk(api: APIClient, url: str) -> list[dict[str, Any]]:
    pages = [api.get(url).json()]
    while pages[-1]["next"]:
        pages.append(api.get(pages[-1]["next"]).json())
    return pages


def test_paging_returns_every_job_once_even_when_one_is_queued_between_pages(alice_api: APIClient, alice: Any) -> None:
    made = _jobs(alice, 7)
    first = alice_api.get("/api/v1/jobs/?page_size=3").json()
    newcomer = queue_job(alice, prompt="queued while reading")

    rest = _walk(alice_api, first["next"])
    seen = [job["id"] for page in [first, *rest] for job in page["results"]]

    assert sorted(seen) == sorted(job.id for job in made)
    assert first["previous"] is None and all(page["previous"] for page in rest)
    back = alice_api.get(rest[0]["previous"]).json()
    assert back["results"] == first["results"]
    above = alice_api.get(back["previous"]).json()
    assert [job["id"] for job in above["results"]] == [newcomer.id] and above["previous"] is None


def test_the_links_keep_the_page_size(alice_api: APIClient, alice: Any) -> None:
    _jobs(alice, 5)

    first = alice_api.get("/api/v1/jobs/?page_size=2").json()

    assert first["next"].startswith("http://testserver/api/v1/jobs/?") and "page_size=2" in first["next"]
    assert set(first) == {"next", "previous", "results"}


@pytest.mark.parametrize(
    ("asked", "expected"),
    [("1", 1), ("100", 100), ("101", 100), ("99999999999", 100), ("0", 20), ("-3", 20), ("abc", 20), ("٣", 20)],
)
def test_the_page_size_stays_within_bounds(alice_api: APIClient, alice: Any, asked: str, expected: int) -> None:
    _jobs(alice, 105)

    response = alice_api.get("/api/v1/jobs/", {"page_size": asked})

    assert response.status_code == 200
    assert len(response.json()["results"]) == expected


FORGED = {
    "garbage": "garbage",
    "a DRF cursor": base64.b64encode(b"p=0001-01-01T00%3A00%3A00%2B14%3A00&r=1").decode(),
    "the gallery's old format": base64.urlsafe_b64encode(b'[1, "2024-05-01T12:00:00+00:00", "AAAA"]').decode(),
    "a forged signature": "WyJuIiwxXQ:" + "A" * 43,
    "5,000 characters": "a" * 5000,
}


@pytest.mark.parametrize("cursor", FORGED.values(), ids=FORGED.keys())
def test_a_forged_cursor_is_a_404_that_says_why(alice_api: APIClient, alice: Any, cursor: str) -> None:
    _jobs(alice, 3)

    response = alice_api.get("/api/v1/jobs/", {"cursor": cursor})

    assert response.status_code == 404
    assert "not valid" in response.json()["detail"]


def test_a_cursor_from_another_list_is_refused(alice_api: APIClient, alice: Any, client: Any) -> None:
    """Jobs and creations both page by (created_at, id): the salt keeps their cursors apart."""
    _jobs(alice, 3)
    next_url = alice_api.get("/api/v1/jobs/?page_size=1").json()["next"]
    cursor = next_url.split("cursor=")[1].split("&")[0]

    assert client.get(f"/explore/?cursor={cursor}").status_code == 400


def test_another_users_cursor_pages_only_the_callers_jobs(alice_api: APIClient, bob_api: APIClient, alice: Any) -> None:
    mine = _jobs(alice, 3)
    next_url = alice_api.get("/api/v1/jobs/?page_size=1").json()["next"]

    response = bob_api.get(next_url)

    assert response.status_code == 200
    assert not {job["id"] for job in response.json()["results"]} & {job.id for job in mine}
