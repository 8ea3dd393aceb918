"""Bad input gets a 400 with a message per field, and nothing is written."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from generation.models import GenerationJob

pytestmark = pytest.mark.django_db

BAD_INPUTS = [
    pytest.param({"prompt": ""}, "prompt", "cannot be empty", id="empty-prompt"),
    pytest.param({"prompt": "   \n\t "}, "prompt", "cannot be empty", id="whitespace-prompt"),
    pytest.param({}, "prompt", "required", id="missing-prompt"),
    pytest.param({"prompt": "x" * 501}, "prompt", "500 characters", id="prompt-too-long"),
    pytest.param({"prompt": "ok", "count": 0}, "count", "1 to 4", id="count-zero"),
    pytest.param({"prompt": "ok", "count": 5}, "count", "1 to 4", id="count-five"),
    pytest.param({"prompt": "ok", "count": "many"}, "count", "valid integer", id="count-not-a-number"),
    pytest.param({"prompt": "ok", "width": 100}, "width", "multiple of 8", id="width-not-multiple-of-8"),
    pytest.param({"prompt": "ok", "height": 516}, "height", "multiple of 8", id="height-not-multiple-of-8"),
    pytest.param({"prompt": "ok", "width": 56}, "width", "between 64 and 1024", id="width-too-small"),
    pytest.param({"prompt": "ok", "height": 1032}, "height", "between 64 and 1024", id="height-too-large"),
    pytest.param({"prompt": "ok", "steps": 0}, "steps", "1 to 50", id="steps-zero"),
    pytest.param({"prompt": "ok", "steps": 51}, "steps", "1 to 50", id="steps-too-many"),
    pytest.param({"prompt": "ok", "style": "no-such-style"}, "style", "Unknown style", id="unknown-style"),
    pytest.param({"prompt": "ok", "seed": -1}, "seed", "greater than or equal", id="negative-seed"),
]


@pytest.mark.parametrize(("payload", "field", "message"), BAD_INPUTS)
def test_it_rejects_bad_input_with_a_message_for_the_field(
    alice_api: APIClient, payload: dict[str, Any], field: str, message: str
) -> None:
    response = alice_api.post("/api/v1/jobs/", payload, format="json")

    assert response.status_code == 400
    errors = response.json()
    assert field in errors
    assert message in " ".join(errors[field])
    assert GenerationJob.objects.count() == 0


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[1, 2]", b'"just a string"', b"null"],
    ids=["malformed", "a-list", "a-string", "null"],
)
def test_it_rejects_a_body_that_is_not_a_json_object(alice_api: APIClient, body: bytes) -> None:
    response = alice_api.post("/api/v1/jobs/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()  # a message, not an empty body
    assert GenerationJob.objects.count() == 0


def test_malformed_json_gets_a_plain_message(alice_api: APIClient) -> None:
    response = alice_api.post("/api/v1/jobs/", b"{not json", content_type="application/json")

    assert response.json() == {"detail": "The request body is not valid JSON."}


def test_a_form_encoded_body_is_refused_with_a_hint(alice_api: APIClient) -> None:
    response = alice_api.post("/api/v1/jobs/", {"prompt": "ok"})

    assert response.status_code == 415
    assert "JSON" in response.json()["detail"]
    assert GenerationJob.objects.count() == 0


def test_keep_without_an_image_says_which_field_is_missing(alice_api: APIClient, alice: Any) -> None:
    from tests.factories import queue_job

    job = queue_job(alice)

    response = alice_api.post(f"/api/v1/jobs/{job.id}/keep/", {}, format="json")

    assert response.status_code == 400
    assert response.json() == {"image": ["Say which image to keep."]}
