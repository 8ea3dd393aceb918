"""Error pages look like the site, speak the visitor's language and offer a way back; the API
keeps answering JSON; the 500 page renders when the database is what broke."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from accounts.models import User
from gallery import services
from gallery.models import Creation
from tests.clients import page_client_for
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db

STYLESHEET, FAVICON = "/static/css/app.css", "/static/img/favicon.svg"


def assert_styled(html: str) -> None:
    """The site's stylesheet, icon, header and at least the way to Explore."""
    assert f'<link rel="stylesheet" href="{STYLESHEET}">' in html
    assert f'<link rel="icon" href="{FAVICON}"' in html
    assert 'class="site-header"' in html
    assert f'href="{reverse("gallery:explore")}"' in html and 'id="error-explore"' in html


@contextmanager
def broken_database() -> Iterator[None]:
    """Every query fails, as when the database server is down."""

    def refuse(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        raise OperationalError("the database is down")

    with connection.execute_wrapper(refuse):
        yield


@pytest.fixture
def staff_without_permissions(db: None) -> User:
    return User.objects.create_user("dave", "dave@example.com", "correct horse battery", is_staff=True)


@pytest.fixture
def shared(alice: User) -> Creation:
    background = drawn_background(alice, kept=False)
    return services.creation_create(owner=alice, background=background, layers=[], visibility="unlisted")


def test_an_unknown_address_is_a_styled_404_with_ways_back() -> None:
    response = Client().get("/no/such/page/")

    html = response.content.decode()
    assert response.status_code == 404
    assert_styled(html)
    assert "Page not found" in html and 'id="error-login"' in html
    assert "turned the link off" not in html


def test_a_signed_in_visitor_is_offered_the_studio_and_their_gallery(alice: User) -> None:
    html = page_client_for(alice).get("/no/such/page/").content.decode()

    assert f'href="{reverse("studio")}"' in html and 'id="error-home"' in html
    assert f'href="{reverse("gallery:index")}"' in html and 'id="error-gallery"' in html


def test_the_404_page_speaks_korean_when_asked() -> None:
    html = Client().get("/no/such/page/", headers={"accept-language": "ko"}).content.decode()

    assert '<html lang="ko"' in html
    with translation.override("ko"):
        assert gettext("Explore") != "Explore"  # the catalog has it: this checks Korean, not a fallback
        assert gettext("Explore") in html and gettext("Page not found") in html


def test_a_turned_off_share_link_says_its_owner_may_have_turned_it_off(shared: Creation) -> None:
    old_token = shared.share_token
    services.creation_share_link_renew(creation=shared)

    response = Client().get(f"/s/{old_token}/")

    html = response.content.decode()
    assert response.status_code == 404
    assert_styled(html)
    assert 'id="share-link-off"' in html and "turned the link off" in html


def test_a_share_link_to_a_picture_made_private_says_so_too(shared: Creation) -> None:
    services.creation_visibility_set(creation=shared, visibility="private")

    html = Client().get(f"/s/{shared.share_token}/").content.decode()

    assert 'id="share-link-off"' in html


def test_an_unknown_picture_page_is_a_plain_404_not_a_share_link_message(db: None) -> None:
    html = Client().get("/c/nosuchpicture/").content.decode()

    assert "Page not found" in html and 'id="share-link-off"' not in html


def test_a_request_for_another_host_is_a_styled_400() -> None:
    response = Client().get("/explore/", headers={"host": "evil.example"})

    assert response.status_code == 400
    assert_styled(response.content.decode())


def test_a_refused_page_is_a_styled_403(staff_without_permissions: User) -> None:
    response = page_client_for(staff_without_permissions).get("/admin/gallery/report/")

    html = response.content.decode()
    assert response.status_code == 403
    assert_styled(html)
    assert "Not allowed" in html


def test_a_login_lockout_is_a_styled_429_with_retry_after(alice: User, settings: Any) -> None:
    settings.WEE_WAA_LOGIN_FAILURES_PER_USER = 1
    client = Client(REMOTE_ADDR="203.0.113.9")
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"})

    response = client.post("/accounts/login/", {"username": "alice", "password": "correct horse battery"})

    html = response.content.decode()
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert_styled(html)
    assert 'id="locked-out"' in html and "try again in 15 minutes" in html


def test_a_broken_database_still_gets_the_styled_500_page(alice: User) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    with broken_database():
        response = client.get("/gallery/", headers={"accept-language": "ko"})

    html = response.content.decode()
    assert response.status_code == 500
    assert_styled(html)
    assert f'href="{reverse("home")}"' in html
    assert '<html lang="ko"' in html
    with translation.override("ko"):
        assert gettext("Explore") in html


def test_an_unknown_api_address_answers_json_not_a_page(db: None) -> None:
    response = Client().get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_an_api_error_on_a_broken_database_answers_json(alice: User) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    with broken_database():
        response = client.get("/api/v1/jobs/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_a_form_sent_without_its_csrf_token_gets_the_styled_expired_form_page(db: None) -> None:
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/accounts/signup/", {"username": "x"})

    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page
    assert "css/app.css" in page and "favicon.svg" in page
