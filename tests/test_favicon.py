"""Every page the site serves carries its favicon: pages, error pages and the admin."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.clients import page_client_for

pytestmark = pytest.mark.django_db

FAVICON = 'rel="icon" href="/static/img/favicon.svg"'


@pytest.mark.parametrize("path", ["/", "/explore/", "/accounts/login/", "/accounts/signup/", "/admin/login/", "/nope/"])
def test_pages_for_visitors_carry_the_favicon(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code in {200, 404}
    assert FAVICON in response.content.decode()


@pytest.mark.parametrize("path", ["/studio/", "/gallery/", "/admin/"])
def test_pages_for_signed_in_people_and_staff_carry_the_favicon(alice: Any, path: str) -> None:
    alice.is_staff = alice.is_superuser = True
    alice.save()
    response = page_client_for(alice).get(path)
    assert response.status_code == 200
    assert FAVICON in response.content.decode()


def test_the_expired_form_page_carries_the_favicon() -> None:
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {"username": "x"})
    assert response.status_code == 403
    assert FAVICON in response.content.decode()
