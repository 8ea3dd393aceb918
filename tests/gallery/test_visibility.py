"""Who sees what: the visibility-by-viewer matrix on every page, links, likes, reports, moderation."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import User
from gallery import services
from gallery.models import Creation, Like, ModerationLog, Report
from generation.models import Background
from tests.clients import api_client_for, page_client_for
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


@pytest.fixture
def background(alice: Any) -> Background:
    return drawn_background(alice, kept=False)


@pytest.fixture
def carol(db: None) -> User:
    return User.objects.create_user("carol", "carol@example.com", "correct horse battery", is_staff=True)


def creation(owner: Any, background: Background, visibility: str, hidden: bool = False) -> Creation:
    made = services.creation_create(owner=owner, background=background, layers=[], visibility=visibility)
    if hidden:
        made.moderation = "hidden"
        made.save()
    return made


# owner, another user, anonymous, staff
MATRIX = {
    ("private", False): {"detail": (200, 404, 404, 404), "shared": (200, 404, 404, 404)},
    ("unlisted", False): {"detail": (200, 404, 404, 200), "shared": (200, 200, 200, 200)},
    ("public", False): {"detail": (200, 200, 200, 200), "shared": (200, 200, 200, 200)},
    ("public", True): {"detail": (200, 404, 404, 200), "shared": (200, 404, 404, 200)},
}


@pytest.mark.parametrize(("visibility", "hidden"), list(MATRIX))
def test_the_visibility_matrix_holds_on_every_page(
    alice: Any, bob: Any, carol: Any, background: Background, visibility: str, hidden: bool
) -> None:
    made = creation(alice, background, visibility, hidden)
    viewers = [page_client_for(alice), page_client_for(bob), page_client_for(None), page_client_for(carol)]
    urls = {"detail": f"/c/{made.id}/", "shared": f"/s/{made.share_token}/"}

    for page, expected in MATRIX[(visibility, hidden)].items():
        got = tuple(viewer.get(urls[page]).status_code for viewer in viewers)
        assert got == expected, (page, got)


def test_the_owner_of_a_hidden_picture_is_told_moderators_hid_it(alice: Any, background: Background) -> None:
    made = creation(alice, background, "public", hidden=True)

    assert "Moderators hid this picture" in page_client_for(alice).get(f"/c/{made.id}/").content.decode()


def test_a_shared_page_has_link_preview_tags_and_a_download_button(alice: Any, background: Background) -> None:
    made = creation(alice, background, "unlisted")

    html = page_client_for(None).get(f"/s/{made.share_token}/").content.decode()

    # The file URL carries the link's token: the owner shared the link, and chat apps fetch it.
    assert f'property="og:image" content="http://testserver/media/{made.image.name}?t={made.share_token}"' in html
    assert f'property="og:image:width" content="{made.width}"' in html
    assert 'name="twitter:card" content="summary_large_image"' in html
    assert 'id="download"' in html and " download>" in html
    assert 'name="robots" content="noindex"' in html


def test_a_revoked_link_stops_working_and_the_new_one_works(alice: Any, background: Background) -> None:
    made = creation(alice, background, "unlisted")
    old = made.share_token

    response = api_client_for(alice).post(f"/api/v1/creations/{made.id}/share-link/")

    assert response.status_code == 200
    assert page_client_for(None).get(f"/s/{old}/").status_code == 404
    made.refresh_from_db()
    assert made.share_token != old and len(made.share_token) >= 32  # 192 random bits
    assert response.json()["share_url"].endswith(f"/s/{made.share_token}/")
    assert page_client_for(None).get(f"/s/{made.share_token}/").status_code == 200


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("patch", "", {"title": "mine now"}),
        ("patch", "", {"visibility": "public"}),
        ("delete", "", None),
        ("post", "share-link/", None),
        ("get", "", None),
    ],
)
def test_only_the_owner_can_change_or_see_a_private_creation(
    alice: Any, bob: Any, background: Background, method: str, suffix: str, body: Any
) -> None:
    made = creation(alice, background, "private")

    response = getattr(api_client_for(bob), method)(f"/api/v1/creations/{made.id}/{suffix}", body, format="json")

    assert response.status_code == 404
    made.refresh_from_db()
    assert (made.title, made.visibility) == ("", "private")


def test_the_owner_edits_title_and_visibility_and_deletes(alice: Any, background: Background) -> None:
    made = creation(alice, background, "private")
    api = api_client_for(alice)

    changed = api.patch(f"/api/v1/creations/{made.id}/", {"title": "Snow day", "visibility": "public"}, format="json")

    assert changed.status_code == 200
    assert (changed.json()["title"], changed.json()["visibility"]) == ("Snow day", "public")
    assert page_client_for(None).get(f"/c/{made.id}/").status_code == 200
    assert api.delete(f"/api/v1/creations/{made.id}/").status_code == 204
    assert not Creation.objects.filter(id=made.id).exists()


def test_explore_and_profiles_list_only_visible_public_creations(alice: Any, bob: Any, background: Background) -> None:
    shown = creation(alice, background, "public")
    hidden = creation(alice, background, "public", hidden=True)
    unlisted = creation(alice, background, "unlisted")

    for url in ("/explore/", "/u/alice/"):
        html = page_client_for(bob).get(url).content.decode()
        assert shown.id in html
        assert hidden.id not in html and unlisted.id not in html


def test_likes_count_once_per_user_and_need_a_login(alice: Any, bob: Any, background: Background) -> None:
    made = creation(alice, background, "public")
    api = api_client_for(bob)

    assert api.post(f"/api/v1/creations/{made.id}/like/", {"liked": True}, format="json").json()["like_count"] == 1
    assert api.post(f"/api/v1/creations/{made.id}/like/", {"liked": True}, format="json").json()["like_count"] == 1
    assert APIClient().post(f"/api/v1/creations/{made.id}/like/").status_code == 403
    assert api.post(f"/api/v1/creations/{made.id}/like/", {"liked": False}, format="json").json()["like_count"] == 0
    assert not Like.objects.exists()


def test_an_unlisted_creation_cannot_be_liked(alice: Any, bob: Any, background: Background) -> None:
    made = creation(alice, background, "unlisted")

    assert api_client_for(bob).post(f"/api/v1/creations/{made.id}/like/").status_code == 404


def test_reports_need_a_login_and_are_rate_limited(alice: Any, bob: Any, background: Background) -> None:
    made = creation(alice, background, "public")
    api = api_client_for(bob)
    url = f"/api/v1/creations/{made.id}/report/"

    assert APIClient().post(url, {"reason": "spam"}, format="json").status_code == 403
    statuses = [api.post(url, {"reason": f"spam {n}"}, format="json").status_code for n in range(11)]

    assert statuses[:10] == [201] * 10
    assert statuses[10] == 429
    assert Report.objects.filter(creation=made).count() == 10


def test_report_then_hide_then_404_with_an_audit_trail(
    alice: Any, bob: Any, carol: Any, background: Background
) -> None:
    made = creation(alice, background, "public")
    api_client_for(bob).post(f"/api/v1/creations/{made.id}/report/", {"reason": "not nice"}, format="json")

    services.creation_moderate(actor=carol, creation=made, hide=True, note="reported")

    assert page_client_for(bob).get(f"/c/{made.id}/").status_code == 404
    assert page_client_for(None).get(f"/s/{made.share_token}/").status_code == 404
    assert Report.objects.get(creation=made).resolved_at is not None
    log = ModerationLog.objects.get()
    assert (log.actor, log.action, log.creation_id) == (carol, "hide", made.id)


def test_a_banned_user_cannot_log_in_and_their_public_pictures_disappear(
    alice: Any, bob: Any, carol: Any, background: Background
) -> None:
    made = creation(alice, background, "public")

    services.user_ban(actor=carol, user=alice)

    assert page_client_for(bob).get(f"/c/{made.id}/").status_code == 404
    assert made.id not in page_client_for(bob).get("/explore/").content.decode()
    assert not Client().login(username="alice", password="correct horse battery")
    assert ModerationLog.objects.get().action == "ban"


def test_guessed_ids_and_tokens_are_404(bob: Any, db: None) -> None:
    assert page_client_for(bob).get("/c/not-a-real-id/").status_code == 404
    assert page_client_for(None).get("/s/guessed-token-0000000000000000/").status_code == 404
    assert api_client_for(bob).get("/api/v1/creations/nope/").status_code == 404


def test_only_the_owner_opens_the_editor_on_a_kept_background_or_a_creation(
    alice: Any, bob: Any, background: Background
) -> None:
    background.kept_at = background.created_at
    background.save()
    made = creation(alice, background, "public")

    assert page_client_for(alice).get(f"/compose/{background.id}/").status_code == 200
    assert page_client_for(alice).get(f"/c/{made.id}/edit/").status_code == 200
    assert page_client_for(bob).get(f"/compose/{background.id}/").status_code == 404
    assert page_client_for(bob).get(f"/c/{made.id}/edit/").status_code == 404
    assert page_client_for(None).get(f"/c/{made.id}/edit/").status_code == 302  # to the login page


def test_a_creation_can_only_be_made_from_ones_own_kept_background(
    alice: Any, bob: Any, background: Background
) -> None:
    body = {"background": background.id, "layers": []}

    assert api_client_for(alice).post("/api/v1/creations/", body, format="json").status_code == 404  # not kept yet
    background.kept_at = background.created_at
    background.save()
    assert api_client_for(bob).post("/api/v1/creations/", body, format="json").status_code == 404
    created = api_client_for(alice).post("/api/v1/creations/", body, format="json")
    assert created.status_code == 201
    assert created.json()["visibility"] == "private"


def test_the_editor_lists_the_active_characters(alice: Any, db: None) -> None:
    from gallery.characters import ensure_characters

    ensure_characters()

    characters = api_client_for(alice).get("/api/v1/characters/").json()

    assert len(characters) >= 6
    assert {"id", "name", "image", "width", "height", "default_scale"} <= set(characters[0])


def test_likes_are_rate_limited(alice: Any, bob: Any, background: Background) -> None:
    made = creation(alice, background, "public")
    api = api_client_for(bob)

    statuses = [
        api.post(f"/api/v1/creations/{made.id}/like/", {"liked": n % 2 == 0}, format="json").status_code
        for n in range(61)
    ]

    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


def test_changes_without_the_csrf_token_are_refused(alice: Any, background: Background) -> None:
    made = creation(alice, background, "private")
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(alice)

    assert api.patch(f"/api/v1/creations/{made.id}/", {"visibility": "public"}, format="json").status_code == 403
    assert api.post(f"/api/v1/creations/{made.id}/share-link/").status_code == 403
    made.refresh_from_db()
    assert made.visibility == "private"


def test_the_public_pages_answer_head_like_get(alice: Any, background: Background) -> None:
    made = creation(alice, background, "unlisted")
    services.creation_visibility_set(creation=creation(alice, background, "private"), visibility="public")

    for url in ("/explore/", "/u/alice/", f"/s/{made.share_token}/", "/gallery/"):
        response = page_client_for(alice).head(url)
        assert (response.status_code, response.content) == (200, b""), url
    assert page_client_for(None).head(f"/c/{made.id}/").status_code == 404
    assert page_client_for(alice).post("/explore/").status_code == 405
