"""Sign-up is throttled per client address: fresh accounts multiply every per-user quota."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User

pytestmark = pytest.mark.django_db

SECRET = "a long enough secret"


def sign_up(username: str, address: str = "203.0.113.7") -> Any:
    client = Client(REMOTE_ADDR=address)
    return client.post("/accounts/signup/", {"username": username, "password1": SECRET, "password2": SECRET})


def test_the_sixth_account_from_one_address_in_an_hour_is_refused_with_a_429(settings: Any) -> None:
    assert settings.WEE_WAA_SIGNUPS_PER_HOUR == 5
    assert [sign_up(f"painter{index}").status_code for index in range(5)] == [302] * 5

    refused = sign_up("painter-six")

    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Too many accounts were created from your network" in refused.content.decode()
    assert not User.objects.filter(username="painter-six").exists()


def test_other_addresses_can_still_sign_up(settings: Any) -> None:
    settings.WEE_WAA_SIGNUPS_PER_HOUR = 1
    assert sign_up("first").status_code == 302
    assert sign_up("second").status_code == 429

    assert sign_up("third", address="198.51.100.4").status_code == 302


def test_a_form_with_mistakes_does_not_use_up_the_allowance(settings: Any) -> None:
    settings.WEE_WAA_SIGNUPS_PER_HOUR = 1
    client = Client(REMOTE_ADDR="203.0.113.9")
    for _ in range(3):
        response = client.post("/accounts/signup/", {"username": "carol", "password1": SECRET, "password2": "x"})
        assert response.status_code == 400

    assert sign_up("carol", address="203.0.113.9").status_code == 302


def test_behind_the_proxy_the_address_nginx_appended_counts(settings: Any) -> None:
    settings.WEE_WAA_SIGNUPS_PER_HOUR = 1
    settings.WEE_WAA_BEHIND_PROXY = True

    def through_proxy(username: str, forwarded: str) -> int:
        client = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)
        data = {"username": username, "password1": SECRET, "password2": SECRET}
        return client.post("/accounts/signup/", data).status_code

    assert through_proxy("one", "203.0.113.7") == 302
    # A client cannot escape the limit by sending its own X-Forwarded-For first.
    assert through_proxy("two", "1.2.3.4, 203.0.113.7") == 429
    assert through_proxy("three", "198.51.100.8") == 302
