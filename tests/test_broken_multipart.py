"""A multipart body that does not parse is a 400 wherever it is sent, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

BROKEN = b"a" * 20_000  # no boundary line at all: "max total header size exceeded" while parsing


@pytest.mark.parametrize("path", ["/no/such/page/", "/api/v1/creations//remix/", "/accounts/signup/"])
def test_a_broken_multipart_body_is_a_400_with_a_message(alice: Any, path: str) -> None:
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(alice)
    client.get("/studio/")
    token = client.cookies["csrftoken"].value

    response = client.generic(
        "POST", path, BROKEN, content_type="multipart/form-data; boundary=x", headers={"X-CSRFToken": token}
    )

    assert response.status_code == 400
