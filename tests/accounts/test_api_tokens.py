"""Personal API tokens: made and stored safely, accepted as ``Authorization: Bearer`` on the API,
refused when bad, revoked or expired, and throttled per token within the user's budget."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import socket
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.tokens import token_authenticate, token_create, token_revoke
from gallery import services
from gallery.models import Creation
from generation.models import GenerationJob
from tests.clients import api_client_for
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhook hosts resolve to a public address without asking the network."""
    from generation import webhooks

    monkeypatch.setattr(webhooks, "resolve", lambda host, port: [(socket.AF_INET, ("93.184.216.34", port))])


def bearer(raw: str) -> APIClient:
    """A program's client: no cookies, CSRF checks on (as in production), only the token."""
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_a_token_is_wwt_and_40_url_safe_characters_and_only_its_digest_is_stored(alice: User) -> None:
    token, raw = token_create(user=alice, name="laptop script")

    assert re.fullmatch(r"wwt_[A-Za-z0-9_-]{40}", raw)
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(stored.prefix) and len(stored.prefix) < len(raw) // 2
    row_text = " ".join(str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values())
    assert raw not in row_text


def test_two_tokens_are_never_the_same(alice: User) -> None:
    raws = {token_create(user=alice, name=f"t{n}")[1] for n in range(5)}
    assert len(raws) == 5


def test_a_webhook_secret_is_made_only_with_a_webhook_url(alice: User) -> None:
    plain, _ = token_create(user=alice, name="no hook")
    hooked, _ = token_create(user=alice, name="hook", webhook_url="https://example.com/hook")

    assert plain.webhook_secret == ""
    assert hooked.webhook_secret.startswith("whsec_") and len(hooked.webhook_secret) > 30


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 81}, "name"),
        ({"name": "ok", "expires_at": timezone.now() - dt.timedelta(seconds=1)}, "expires_at"),
        ({"name": "ok", "webhook_url": "ftp://example.com/hook"}, "webhook_url"),
        ({"name": "ok", "webhook_url": "javascript:alert(1)"}, "webhook_url"),
        ({"name": "ok", "webhook_url": "not a url"}, "webhook_url"),
    ],
)
def test_it_refuses_bad_fields_by_name(alice: User, fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        token_create(user=alice, **fields)

    assert field in refused.value.message_dict
    assert not ApiToken.objects.exists()


def test_a_user_has_at_most_the_configured_number_of_active_tokens(alice: User, bob: User, settings: Any) -> None:
    settings.WEE_WAA_MAX_TOKENS_PER_USER = 2
    first, _ = token_create(user=alice, name="one")
    token_create(user=alice, name="two")

    with pytest.raises(ValidationError, match="2 active tokens"):
        token_create(user=alice, name="three")
    token_create(user=bob, name="bob's own")  # a budget per user
    token_revoke(token=first)
    token_create(user=alice, name="three")  # a revoked token frees its place


def test_the_bearer_token_lists_and_creates_jobs_without_a_csrf_token(alice: User) -> None:
    _, raw = token_create(user=alice, name="script")
    client = bearer(raw)

    made = client.post("/api/v1/jobs/", {"prompt": "harbour at dawn"}, format="json")
    listed = client.get("/api/v1/jobs/")

    assert made.status_code == 201, made.content
    assert GenerationJob.objects.get(id=made.json()["id"]).owner == alice
    assert [job["id"] for job in listed.json()["results"]] == [made.json()["id"]]


def test_the_bearer_token_works_on_the_creations_api(alice: User) -> None:
    _, raw = token_create(user=alice, name="script")
    background = drawn_background(alice, kept=True)
    client = bearer(raw)

    made = client.post("/api/v1/creations/", {"background": background.id, "layers": []}, format="json")
    changed = client.patch(f"/api/v1/creations/{made.json()['id']}/", {"visibility": "public"}, format="json")

    assert made.status_code == 201, made.content
    assert changed.status_code == 200, changed.content
    assert Creation.objects.get(id=made.json()["id"]).owner == alice


def test_a_token_acts_for_its_owner_only(alice: User, bob: User) -> None:
    made = services.creation_create(owner=alice, background=drawn_background(alice), layers=[], visibility="private")
    _, bobs = token_create(user=bob, name="bob")

    assert bearer(bobs).get(f"/api/v1/creations/{made.id}/").status_code == 404


@pytest.mark.parametrize("kind", ["unknown", "malformed", "revoked", "expired", "banned", "empty", "not ascii"])
def test_a_bad_token_is_a_401_with_a_json_message_and_www_authenticate(alice: User, kind: str) -> None:
    token, raw = token_create(user=alice, name="script")
    if kind == "unknown":
        raw = "wwt_" + "A" * 40
    elif kind == "malformed":
        raw = raw[:-1]
    elif kind == "revoked":
        token_revoke(token=token)
    elif kind == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif kind == "banned":
        User.objects.filter(pk=alice.pk).update(is_active=False)
    client = APIClient()
    if kind == "empty":
        client.credentials(HTTP_AUTHORIZATION="Bearer")
    elif kind == "not ascii":
        client.credentials(HTTP_AUTHORIZATION="Bearer wwt_ÿÿÿ".encode().decode("latin1"))
    else:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = client.get("/api/v1/jobs/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


def test_a_bad_token_is_refused_even_with_a_valid_session_alongside(alice: User) -> None:
    client = api_client_for(alice)
    client.credentials(HTTP_AUTHORIZATION="Bearer wwt_" + "B" * 40)

    assert client.get("/api/v1/jobs/").status_code == 401


def test_session_callers_behave_as_before(alice: User, client: Any) -> None:
    strict = APIClient(enforce_csrf_checks=True)
    strict.force_login(alice)

    assert client.get("/api/v1/jobs/").status_code == 403  # nobody: no WWW-Authenticate, as before
    assert strict.post("/api/v1/jobs/", {"prompt": "x"}, format="json").status_code == 403  # CSRF still needed
    assert api_client_for(alice).post("/api/v1/jobs/", {"prompt": "x"}, format="json").status_code == 201


def test_the_last_use_is_recorded_at_most_once_a_minute(alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    token, raw = token_create(user=alice, name="script")
    assert token.last_used_at is None

    bearer(raw).get("/api/v1/jobs/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < dt.timedelta(seconds=5)

    bearer(raw).get("/api/v1/jobs/")
    token.refresh_from_db()
    assert token.last_used_at == first  # within the minute: no write

    later = first + dt.timedelta(minutes=2)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert token_authenticate(raw) is not None
    token.refresh_from_db()
    assert token.last_used_at == later


def test_a_refused_token_is_not_marked_used(alice: User) -> None:
    token, raw = token_create(user=alice, name="script")
    token_revoke(token=token)

    bearer(raw).get("/api/v1/jobs/")

    token.refresh_from_db()
    assert token.last_used_at is None


def test_revoking_records_when_and_by_whom_and_twice_changes_nothing(alice: User, admin_user: User) -> None:
    token, _ = token_create(user=alice, name="script")

    token_revoke(token=token, by=admin_user)
    first = token.revoked_at
    token_revoke(token=token, by=alice)

    token.refresh_from_db()
    assert token.revoked_at == first is not None
    assert token.revoked_by == admin_user


# ---- Throttling: a budget per token, inside the user's budget ---------------------------------


@pytest.fixture
def small_rates(settings: Any) -> None:
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"likes": "4/min", "likes_per_token": "2/min", "reports": "10/hour"}
    settings.REST_FRAMEWORK = rest


def like(client: APIClient, creation: Creation, n: int) -> int:
    response = client.post(f"/api/v1/creations/{creation.id}/like/", {"liked": n % 2 == 0}, format="json")
    return int(response.status_code)


@pytest.fixture
def public_creation(alice: User) -> Creation:
    return services.creation_create(owner=alice, background=drawn_background(alice), layers=[], visibility="public")


@pytest.mark.usefixtures("small_rates")
def test_each_token_has_its_own_budget(bob: User, public_creation: Creation) -> None:
    first = bearer(token_create(user=bob, name="one")[1])
    second = bearer(token_create(user=bob, name="two")[1])

    assert [like(first, public_creation, n) for n in range(3)] == [200, 200, 429]
    assert [like(second, public_creation, n) for n in range(2)] == [200, 200]  # the first's 429 cost it nothing


@pytest.mark.usefixtures("small_rates")
def test_a_throttled_answer_says_when_to_retry(bob: User, public_creation: Creation) -> None:
    client = bearer(token_create(user=bob, name="one")[1])
    for n in range(2):
        like(client, public_creation, n)

    response = client.post(f"/api/v1/creations/{public_creation.id}/like/", {"liked": True}, format="json")

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


@pytest.mark.usefixtures("small_rates")
def test_tokens_share_the_users_budget_with_the_session(bob: User, public_creation: Creation) -> None:
    session = api_client_for(bob)
    token = bearer(token_create(user=bob, name="one")[1])

    assert [like(session, public_creation, n) for n in range(4)] == [200] * 4
    assert like(token, public_creation, 0) == 429  # a token does not dodge the spent session budget


@pytest.mark.usefixtures("small_rates")
def test_many_tokens_never_multiply_the_users_budget(bob: User, public_creation: Creation) -> None:
    clients = [bearer(token_create(user=bob, name=f"t{n}")[1]) for n in range(3)]

    statuses = [like(client, public_creation, n) for n in range(2) for client in clients]

    assert statuses.count(200) == 4 and statuses.count(429) == 2


@pytest.mark.usefixtures("small_rates")
def test_other_users_are_not_touched_by_a_throttled_token(alice: User, bob: User, public_creation: Creation) -> None:
    token = bearer(token_create(user=bob, name="one")[1])
    for n in range(3):
        like(token, public_creation, n)

    assert like(api_client_for(alice), public_creation, 0) == 200
