"""Korean and English through Django's i18n: pages and API messages."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_the_studio_speaks_korean_when_asked(client: Any, alice: Any) -> None:
    client.force_login(alice)

    korean = client.get("/studio/", headers={"accept-language": "ko"}).content.decode()
    english = client.get("/studio/", headers={"accept-language": "en"}).content.decode()

    assert '<html lang="ko"' in korean and '<html lang="en"' in english
    assert "Generate" in english and "Generate" not in korean


def test_api_errors_are_translated(alice_api: APIClient) -> None:
    response = alice_api.post("/api/v1/jobs/", {"prompt": " "}, format="json", headers={"accept-language": "ko"})

    assert response.status_code == 400
    message = response.json()["prompt"][0]
    assert message and "prompt" not in message.lower()  # Korean text, not the English source
