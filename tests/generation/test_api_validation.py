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


def _forged_cursor(position: str) -> str:
    import base64
    import urllib.parse

    return base64.b64encode(urllib.parse.urlencode({"p": position}).encode()).decode()


@pytest.mark.parametrize(
    "position",
    [
        "not a date",
        "2026-13-45 99:99:99",
        "0001-01-01 00:00:00+14:00",
        "9999-12-31 23:59:59-14:00",
        "2026-01-01\x00",
        "1e400",
        "",
    ],
)
def test_a_forged_cursor_position_is_a_404_with_a_message(alice_api: APIClient, alice: Any, position: str) -> None:
    from tests.factories import queue_job

    queue_job(alice)

    response = alice_api.get("/api/v1/jobs/", {"cursor": _forged_cursor(position)})

    assert response.status_code == 404
    assert "not valid" in response.json()["detail"]


def test_a_genuine_cursor_still_pages_through_the_jobs(alice_api: APIClient, alice: Any) -> None:
    from tests.factories import queue_job

    for _ in range(3):
        queue_job(alice)
    first = alice_api.get("/api/v1/jobs/", {"page_size": 2}).json()

    second = alice_api.get(first["next"]).json()

    assert len(first["results"]) == 2
    assert len(second["results"]) == 1
    assert {job["id"] for job in first["results"]}.isdisjoint(job["id"] for job in second["results"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"[" * 5000 + b"]" * 5000, "nested too deeply", id="nested-5000-deep"),
        pytest.param(b'{"prompt": ' + b"[" * 40 + b"]" * 40 + b"}", "nested too deeply", id="nested-40-deep"),
        pytest.param(b'{"prompt": "\\ud800"}', "not allowed", id="lone-surrogate"),
        pytest.param(b'{"\\udfff": 1}', "not allowed", id="lone-surrogate-key"),
        pytest.param(b'{"prompt": "a\\u0000b"}', "not allowed", id="escaped-nul"),
        pytest.param(b'{"prompt": "ok", "seed": NaN}', "finite", id="nan"),
        pytest.param(b'{"prompt": "ok", "seed": -Infinity}', "finite", id="infinity"),
        pytest.param(b'{"prompt": "ok", "seed": 1e400}', "too large", id="1e400"),
        pytest.param(b'{"prompt": "ok", "seed": ' + b"9" * 5000 + b"}", "not valid JSON", id="5000-digit-int"),
        pytest.param(b'{"prompt": "\xff\xfe"}', "UTF-8", id="not-utf8"),
    ],
)
def test_a_hostile_json_body_gets_a_400_with_a_plain_message(alice_api: APIClient, body: bytes, message: str) -> None:
    response = alice_api.post("/api/v1/jobs/", body, content_type="application/json")

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert GenerationJob.objects.count() == 0


def test_brackets_inside_strings_do_not_count_as_nesting(alice_api: APIClient) -> None:
    body = b'{"prompt": "a sky ' + b"[" * 40 + b' \\" ' + b"{" * 40 + b' and hills"}'

    response = alice_api.post("/api/v1/jobs/", body, content_type="application/json")

    assert response.status_code == 201


def test_an_emoji_written_as_a_surrogate_pair_is_accepted(alice_api: APIClient) -> None:
    response = alice_api.post(
        "/api/v1/jobs/", b'{"prompt": "a sunny day \\ud83c\\udf1e"}', content_type="application/json"
    )

    assert response.status_code == 201
    assert response.json()["prompt"].endswith("\U0001f31e")


def test_an_error_that_echoes_a_lone_surrogate_still_renders() -> None:
    from wee_waa.api import SafeJSONRenderer

    rendered = SafeJSONRenderer().render({"detail": "bad \ud800 value", "name": "이름"})

    assert rendered == b'{"detail":"bad \\ud800 value","name":"\\uc774\\ub984"}'


@pytest.mark.parametrize(
    "path",
    ["/api/v1/jobs/%00/", "/api/v1/jobs/%00/cancel/", "/api/v1/creations/%00/", "/c/%00/", "/s/%00/", "/u/%00/"],
)
def test_a_nul_byte_in_an_id_is_refused_on_every_database(alice_api: APIClient, path: str) -> None:
    response = alice_api.get(path)

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    if path.startswith("/api/"):  # the API answers in JSON, as its schema says
        assert "NUL character" in response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/admin/generation/generationjob/%00/change/",
        "/admin/accounts/user/%00/history/",
        "/admin/generation/generationjob/?q=%00",
        "/explore/?order=%00",
    ],
)
def test_a_nul_byte_anywhere_else_in_the_address_is_a_400_with_a_message(admin_client: Any, path: str) -> None:
    response = admin_client.get(path)

    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_byte_in_a_form_post_is_a_400(admin_client: Any) -> None:
    body = "action=delete_selected&_selected_action=a%00"

    response = admin_client.post(
        "/admin/generation/generationjob/", body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
