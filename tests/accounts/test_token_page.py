"""The API token page (/accounts/tokens/) and the tokens admin: make a token and see it once,
list them, revoke one after a confirmation; nobody else can touch yours."""

from __future__ import annotations

import datetime as dt
import re
import socket
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.tokens import token_authenticate, token_create
from gallery.models import ModerationLog
from tests.clients import page_client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhook hosts resolve to a public address without asking the network."""
    from generation import webhooks

    monkeypatch.setattr(webhooks, "resolve", lambda host, port: [(socket.AF_INET, ("93.184.216.34", port))])


URL = "/accounts/tokens/"


def create(client: Client, **fields: str) -> Any:
    return client.post(URL, {"name": "laptop", "expires_on": "", "webhook_url": "", **fields})


def shown_token(html: str) -> str | None:
    found = re.search(r'id="new-token"[^>]*value="(wwt_[^"]+)"', html)
    return found.group(1) if found else None


def test_the_page_needs_a_login(db: None) -> None:
    response = page_client_for(None).get(URL)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_header_links_to_the_token_page(alice: User) -> None:
    html = page_client_for(alice).get("/studio/").content.decode()

    assert f'id="header-tokens" href="{URL}"' in html


def test_a_new_token_is_shown_once_with_a_copy_button_and_works(alice: User) -> None:
    client = page_client_for(alice)

    response = create(client, name="render script")
    html = response.content.decode()
    raw = shown_token(html)

    assert response.status_code == 200
    assert raw is not None and token_authenticate(raw) is not None
    assert 'id="copy-token"' in html and "you will not see it again" in html
    assert "no-store" in response["Cache-Control"]
    again = client.get(URL).content.decode()
    assert raw not in again and shown_token(again) is None
    assert "render script" in again and raw[:12] in again


def test_the_list_shows_name_prefix_dates_webhook_and_state(alice: User) -> None:
    active, _ = token_create(user=alice, name="active one", webhook_url="https://hooks.example/wee")
    expired, _ = token_create(user=alice, name="expired one")
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - dt.timedelta(days=1))
    revoked, _ = token_create(user=alice, name="revoked one")
    page_client_for(alice).post(f"{URL}{revoked.id}/revoke/")

    html = page_client_for(alice).get(URL).content.decode()

    assert active.prefix in html and "https://hooks.example/wee" in html
    rows = {token.id: html.split(f'id="token-{token.id}"')[1].split("</tr>")[0] for token in (active, expired, revoked)}
    assert "Active" in rows[active.id] and f'id="revoke-{active.id}"' in rows[active.id]
    assert "Expired" in rows[expired.id]
    assert "Revoked" in rows[revoked.id] and "revoke-" not in rows[revoked.id]
    assert active.webhook_secret not in html


def test_the_webhook_secret_is_shown_once_at_creation(alice: User) -> None:
    client = page_client_for(alice)

    html = create(client, webhook_url="https://hooks.example/wee").content.decode()
    secret = ApiToken.objects.get(user=alice).webhook_secret

    assert 'id="new-webhook-secret"' in html and secret in html
    assert secret not in client.get(URL).content.decode()


def test_an_expiry_date_ends_the_token_at_the_start_of_that_day(alice: User) -> None:
    day = timezone.localdate() + dt.timedelta(days=3)

    create(page_client_for(alice), expires_on=day.isoformat())

    expires_at = timezone.localtime(ApiToken.objects.get(user=alice).expires_at)
    assert (expires_at.date(), expires_at.time()) == (day, dt.time.min)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"name": "x" * 81}, "at most 80 characters"),
        ({"expires_on": "2001-01-01"}, "expiry date in the future"),
        ({"expires_on": "tomorrow-ish"}, "Enter a valid date."),
        ({"webhook_url": "ftp://files.example/x"}, "http:// or https://"),
    ],
)
def test_bad_fields_are_a_400_with_the_reason_and_make_nothing(
    alice: User, fields: dict[str, str], message: str
) -> None:
    response = create(page_client_for(alice), **fields)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiToken.objects.exists()


def test_a_webhook_url_on_a_private_network_is_refused(alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    from generation import webhooks

    monkeypatch.setattr(webhooks, "resolve", lambda host, port: [(socket.AF_INET, ("10.0.0.7", port))])

    response = create(page_client_for(alice), webhook_url="https://intranet.example/hook")

    assert response.status_code == 400
    assert "private, local or reserved network address" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_token_limit_is_explained_on_the_page(alice: User, settings: Any) -> None:
    settings.WEE_WAA_MAX_TOKENS_PER_USER = 1
    client = page_client_for(alice)
    create(client)

    response = create(client, name="second")

    assert response.status_code == 400
    assert "You already have 1 active token." in response.content.decode()
    assert ApiToken.objects.filter(user=alice).count() == 1


def test_revoking_asks_first_then_revokes_on_post(alice: User) -> None:
    token, raw = token_create(user=alice, name="script")
    client = page_client_for(alice)

    confirm = client.get(f"{URL}{token.id}/revoke/")
    assert confirm.status_code == 200 and 'id="revoke-confirm"' in confirm.content.decode()
    assert token_authenticate(raw) is not None

    done = client.post(f"{URL}{token.id}/revoke/", follow=True)

    token.refresh_from_db()
    assert token.revoked_at is not None and token.revoked_by == alice
    assert token_authenticate(raw) is None
    assert "was revoked" in done.content.decode()


def test_revoking_needs_the_csrf_token(alice: User) -> None:
    token, _ = token_create(user=alice, name="script")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)

    assert strict.post(f"{URL}{token.id}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_other_users_cannot_see_or_revoke_your_token(alice: User, bob: User) -> None:
    token, _ = token_create(user=alice, name="alice's")
    client = page_client_for(bob)

    assert client.get(f"{URL}{token.id}/revoke/").status_code == 404
    assert client.post(f"{URL}{token.id}/revoke/").status_code == 404
    assert "alice's" not in client.get(URL).content.decode()
    token.refresh_from_db()
    assert token.revoked_at is None


# ---- Admin -----------------------------------------------------------------------------------


def test_staff_revoke_tokens_from_the_admin_with_an_audit_entry(
    admin_client: Client, admin_user: User, alice: User
) -> None:
    token, raw = token_create(user=alice, name="leaked", webhook_url="https://hooks.example/x")
    _, other_raw = token_create(user=alice, name="fine")

    response = admin_client.post(
        "/admin/accounts/apitoken/", {"action": "revoke_tokens", "_selected_action": [token.pk]}, follow=True
    )

    assert response.status_code == 200
    token.refresh_from_db()
    assert (token.revoked_by, token_authenticate(raw)) == (admin_user, None)
    assert token_authenticate(other_raw) is not None
    log = ModerationLog.objects.get(action="revoke-token")
    assert (log.actor, log.target_user) == (admin_user, alice) and token.prefix in log.note


def test_the_admin_lists_tokens_but_never_their_digest_or_webhook_secret(admin_client: Client, alice: User) -> None:
    token, _ = token_create(user=alice, name="hooked", webhook_url="https://hooks.example/x")

    listing = admin_client.get("/admin/accounts/apitoken/").content.decode()
    detail = admin_client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()

    assert "hooked" in listing and token.prefix in listing
    for html in (listing, detail):
        assert token.digest not in html and token.webhook_secret not in html
    assert admin_client.get("/admin/accounts/apitoken/add/").status_code == 403
