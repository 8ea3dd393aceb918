"""Explore → "Log in to like" → "Create an account" ends on the picture, not in the studio; a
``next`` that leads off the site is dropped and the studio is used instead."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from gallery import services
from gallery.models import Creation
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db

PASSWORD = "a long enough secret"
UNSAFE = [
    "//evil.com/",
    "https://evil.com/picture/",
    "http://evil.com",
    "javascript:alert(1)",
    "/\\evil.com",
    "\\\\evil.com",
    "https://testserver.evil.com/",
]


def href(page: str, element_id: str) -> str:
    match = re.search(rf'<a [^>]*id="{element_id}"[^>]*>|<a [^>]*href="[^"]*"[^>]*id="{element_id}"', page)
    assert match, f"no link #{element_id}"
    found = re.search(r'href="([^"]*)"', match.group(0))
    assert found
    return html.unescape(found.group(1))


def signup_form(page: str) -> str:
    """The sign-up form alone: the header's language form carries the page address too."""
    match = re.search(r'<form [^>]*id="signup-form".*?</form>', page, re.S)
    assert match
    return match.group(0)


def next_field(page: str) -> str | None:
    match = re.search(r'<input type="hidden" name="next" id="signup-next" value="([^"]*)">', signup_form(page))
    return html.unescape(match.group(1)) if match else None


def sign_up(client: Client, path: str = "/accounts/signup/", **extra: str) -> Any:
    return client.post(path, {"username": "carol", "password1": PASSWORD, "password2": PASSWORD, **extra})


@pytest.fixture
def public_picture(alice: User) -> Creation:
    background = drawn_background(alice, kept=False)
    return services.creation_create(owner=alice, background=background, layers=[], visibility="public")


def test_log_in_to_like_then_create_an_account_lands_on_the_picture(public_picture: Creation) -> None:
    client = Client()
    picture = f"/c/{public_picture.id}/"

    login_page = client.get(href(client.get(picture).content.decode(), "login-to-like")).content.decode()
    signup_url = href(login_page, "login-to-signup")
    carried = next_field(client.get(signup_url).content.decode())

    assert carried == picture
    response = sign_up(client, signup_url, next=carried)
    assert response.status_code == 302
    assert response["Location"] == picture
    assert User.objects.filter(username="carol").exists()


def test_the_sign_up_page_links_back_to_log_in_with_the_same_next(db: None) -> None:
    page = Client().get("/accounts/signup/", {"next": "/c/abc/"}).content.decode()

    assert href(page, "signup-to-login") == "/accounts/login/?next=/c/abc/"


def test_a_next_in_the_query_string_alone_is_followed_after_sign_up(db: None) -> None:
    response = sign_up(Client(), "/accounts/signup/?next=/explore/%3Forder%3Dliked")

    assert response["Location"] == "/explore/?order=liked"


def test_a_form_with_errors_keeps_the_next_field(db: None) -> None:
    response = Client().post(
        "/accounts/signup/", {"username": "carol", "password1": PASSWORD, "password2": "other", "next": "/c/abc/"}
    )

    assert response.status_code == 400
    assert next_field(response.content.decode()) == "/c/abc/"


def test_without_next_sign_up_still_lands_in_the_studio(db: None) -> None:
    response = sign_up(Client())

    assert response["Location"] == "/studio/"


@pytest.mark.parametrize("unsafe", UNSAFE)
def test_a_next_off_the_site_is_ignored_after_sign_up(db: None, unsafe: str) -> None:
    response = sign_up(Client(), next=unsafe)

    assert response.status_code == 302
    assert response["Location"] == "/studio/"


@pytest.mark.parametrize("unsafe", UNSAFE)
def test_a_next_off_the_site_is_not_carried_by_the_pages(db: None, unsafe: str) -> None:
    client = Client()
    login_page = client.get("/accounts/login/", {"next": unsafe}).content.decode()
    signup_page = client.get("/accounts/signup/", {"next": unsafe}).content.decode()

    assert href(login_page, "login-to-signup") == "/accounts/signup/"
    assert href(signup_page, "signup-to-login") == "/accounts/login/"
    assert 'name="next"' not in signup_form(signup_page)


def test_a_signed_in_visitor_is_sent_on_to_a_safe_next(alice: User) -> None:
    client = Client()
    client.force_login(alice)

    assert client.get("/accounts/signup/", {"next": "/explore/"})["Location"] == "/explore/"
    assert client.get("/accounts/signup/", {"next": "//evil.com/"})["Location"] == "/studio/"
