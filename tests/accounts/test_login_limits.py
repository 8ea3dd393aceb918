"""Login throttling (django-axes): a budget of failures per account and per client address."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

RIGHT, WRONG = "correct horse battery", "not the password"


class CountingHasher(PBKDF2PasswordHasher):
    """The real PBKDF2 hasher, counting how often it does its expensive work."""

    calls = 0

    def encode(self, password: str, salt: str, iterations: int | None = None) -> str:
        CountingHasher.calls += 1
        return super().encode(password, salt, iterations)


@pytest.fixture(autouse=True)
def small_budgets(settings: Any) -> None:
    settings.WEE_WAA_LOGIN_FAILURES_PER_USER = 3
    settings.WEE_WAA_LOGIN_FAILURES_PER_ADDRESS = 5


def log_in(username: str, password: str, address: str = "203.0.113.7") -> Any:
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def test_wrong_passwords_for_one_account_lock_it_with_a_429_and_retry_after(alice: Any) -> None:
    answers = [log_in("alice", WRONG).status_code for _ in range(3)]

    locked = log_in("alice", RIGHT)

    assert answers[:2] == [200, 200]  # the form again, with its error
    assert answers[2] == 429  # the failure that uses up the budget already says so
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"
    assert "try again in 15 minutes" in locked.content.decode()
    assert "_auth_user_id" not in locked.client.session


def test_a_locked_account_is_locked_from_every_address(alice: Any) -> None:
    for index in range(3):
        log_in("alice", WRONG, address=f"198.51.100.{index}")

    assert log_in("alice", RIGHT, address="192.0.2.200").status_code == 429


def test_a_locked_out_login_is_refused_before_the_password_is_hashed(alice: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = [f"{__name__}.CountingHasher"]
    for _ in range(3):
        log_in("alice", WRONG)
    CountingHasher.calls = 0

    for _ in range(5):
        assert log_in("alice", RIGHT).status_code == 429

    assert CountingHasher.calls == 0


def test_one_address_guessing_many_accounts_is_locked_out_but_others_are_not(alice: Any, bob: Any) -> None:
    for index in range(5):
        log_in(f"someone{index}", WRONG)

    assert log_in("alice", RIGHT).status_code == 429
    assert log_in("alice", RIGHT, address="192.0.2.9").status_code == 302


def test_the_lock_ends_after_the_cool_off(alice: Any) -> None:
    for _ in range(3):
        log_in("alice", WRONG)
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=16))

    assert log_in("alice", RIGHT).status_code == 302


def test_a_successful_login_clears_the_failures_of_that_account(alice: Any) -> None:
    for _ in range(2):
        log_in("alice", WRONG)
    assert log_in("alice", RIGHT).status_code == 302

    assert [log_in("alice", WRONG).status_code for _ in range(2)] == [200, 200]


def test_logins_without_a_request_are_not_throttled(alice: Any) -> None:
    """Client.login() and scripts call authenticate() without a request: axes would raise."""
    for _ in range(3):
        log_in("alice", WRONG)

    assert Client().login(username="alice", password=RIGHT)


def test_the_admin_login_is_throttled_too(admin_user: Any) -> None:
    client = Client(REMOTE_ADDR="203.0.113.50")
    for _ in range(3):
        client.post("/admin/login/", {"username": "admin", "password": WRONG})

    response = client.post("/admin/login/", {"username": "admin", "password": "password"})

    assert response.status_code == 429
