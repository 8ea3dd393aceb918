"""Picture files obey the same rules as the pages: every file kind, in every visibility or
moderation state, for every kind of viewer; then how the bytes are handed over (Django, nginx's
X-Accel-Redirect, S3 presigned URLs), HEAD and conditional GETs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.storage import default_storage

from accounts.models import User
from gallery import services
from gallery.media import media_url
from gallery.models import Character, Creation
from generation.models import Background
from tests.clients import page_client_for
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db

VIEWERS = ("owner", "other", "anonymous", "staff", "token")
OK, GONE = 200, 404

# What each viewer gets for a creation's picture and thumbnail.
CREATION_FILES = {
    "private": (OK, GONE, GONE, GONE, GONE),
    "unlisted": (OK, GONE, GONE, OK, OK),
    "public": (OK, OK, OK, OK, OK),
    "hidden": (OK, GONE, GONE, OK, GONE),
    "link revoked": (OK, GONE, GONE, OK, GONE),  # the token holder has the old token
    "owner banned": (GONE, GONE, GONE, OK, GONE),  # a banned owner's session is no login
}
# ... and for the background that creation is drawn on (a share token opens no background:
# the shared page shows only the picture). Staff see every background, as the admin does.
BACKGROUND_FILE = {
    "private": (OK, GONE, GONE, OK, GONE),
    "unlisted": (OK, GONE, GONE, OK, GONE),
    "public": (OK, OK, OK, OK, OK),
    "hidden": (OK, GONE, GONE, OK, GONE),
    "link revoked": (OK, GONE, GONE, OK, GONE),
    "owner banned": (GONE, GONE, GONE, OK, GONE),
    "candidate not kept": (OK, GONE, GONE, OK, GONE),
}
MATRIX = [
    *[(kind, state, expected) for kind in ("picture", "thumbnail") for state, expected in CREATION_FILES.items()],
    *[("background", state, expected) for state, expected in BACKGROUND_FILE.items()],
]


@pytest.fixture
def carol(db: None) -> User:
    return User.objects.create_user("carol", "carol@example.com", "correct horse battery", is_staff=True)


@pytest.fixture
def drawn(alice: Any) -> Background:
    return drawn_background(alice, kept=False)


def kept(background: Background) -> Background:
    background.kept_at = background.created_at
    background.save(update_fields=["kept_at"])
    return background


def put_in_state(state: str, background: Background, carol: Any) -> tuple[Creation | None, str]:
    """The state's creation (none for a candidate) and the token a link holder would have."""
    if state == "candidate not kept":
        return None, "no-such-token"
    visibility = {"private": "private", "unlisted": "unlisted", "link revoked": "unlisted"}.get(state, "public")
    made = services.creation_create(owner=background.job.owner, background=kept(background), layers=[])
    made.visibility = visibility  # set directly: a plain picture, no remix rule in the way
    made.save(update_fields=["visibility"])
    token = made.share_token
    if state == "hidden":
        services.creation_moderate(actor=carol, creation=made, hide=True)
    elif state == "link revoked":
        services.creation_share_link_renew(creation=made)
    elif state == "owner banned":
        services.user_ban(actor=carol, user=made.owner)
    return made, token


def file_name(kind: str, creation: Creation | None, background: Background) -> str:
    if kind == "picture":
        assert creation is not None
        return creation.image.name
    if kind == "thumbnail":
        assert creation is not None
        return creation.thumbnail.name
    return background.image.name


@pytest.mark.parametrize(("kind", "state", "expected"), MATRIX, ids=[f"{k}-{s}" for k, s, _ in MATRIX])
def test_every_file_kind_answers_each_viewer_as_the_pages_do(
    alice: Any, bob: Any, carol: Any, drawn: Background, kind: str, state: str, expected: tuple[int, ...]
) -> None:
    owner_client = page_client_for(alice)  # logged in before any ban, as a banned user's old tab would be
    creation, token = put_in_state(state, drawn, carol)
    url = media_url(file_name(kind, creation, drawn))
    clients = {
        "owner": owner_client,
        "other": page_client_for(bob),
        "anonymous": page_client_for(None),
        "staff": page_client_for(carol),
    }

    got = {viewer: clients[viewer].get(url).status_code for viewer in VIEWERS[:4]}
    got["token"] = page_client_for(None).get(media_url(file_name(kind, creation, drawn), token=token)).status_code

    assert tuple(got[viewer] for viewer in VIEWERS) == expected, got


@pytest.mark.parametrize(
    ("active", "expected"), [(True, (OK, OK, OK, OK)), (False, (GONE, GONE, GONE, OK))], ids=["active", "retired"]
)
def test_a_character_cut_out_is_for_everyone_while_active_and_for_staff_always(
    alice: Any, bob: Any, carol: Any, active: bool, expected: tuple[int, ...]
) -> None:
    from gallery.characters import ensure_characters

    character = ensure_characters()[0]
    Character.objects.filter(id=character.id).update(is_active=active)
    url = media_url(character.image.name)

    got = tuple(page_client_for(user).get(url).status_code for user in (alice, bob, None, carol))

    assert got == expected


@pytest.mark.parametrize(
    ("active", "expected"), [(True, (OK, OK, OK, OK)), (False, (GONE, GONE, GONE, OK))], ids=["enabled", "disabled"]
)
def test_a_style_preview_is_for_everyone_while_enabled_and_for_staff_always(
    alice: Any, bob: Any, carol: Any, active: bool, expected: tuple[int, ...]
) -> None:
    """A freshly trained style starts disabled: staff judge its preview before anyone sees it.
    Its adapter and training pictures are never served, to anyone."""
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    from generation.models import Style

    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "white").save(buffer, format="PNG")
    style = Style.objects.create(name="Snowy", prompt_template="{prompt}, snowy", is_active=active)
    style.preview.save("snowy.png", ContentFile(buffer.getvalue()))
    adapter = default_storage.save("styles/adapters/snowy.safetensors", ContentFile(b"{}"))
    url = media_url(style.preview.name)

    got = tuple(page_client_for(user).get(url).status_code for user in (alice, bob, None, carol))

    assert got == expected
    assert page_client_for(carol).get(media_url(adapter)).status_code == GONE


CHANGES: dict[str, Callable[[Creation, Any], Any]] = {
    "hide": lambda made, staff: services.creation_moderate(actor=staff, creation=made, hide=True),
    "switch to private": lambda made, staff: services.creation_visibility_set(creation=made, visibility="private"),
    "ban": lambda made, staff: services.user_ban(actor=staff, user=made.owner),
    "revoke the link": lambda made, staff: services.creation_share_link_renew(creation=made),
    "delete": lambda made, staff: services.creation_delete(creation=made),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_takedown_makes_every_old_file_url_404_at_once(
    alice: Any, carol: Any, drawn: Background, change: str
) -> None:
    made = services.creation_create(owner=alice, background=kept(drawn), layers=[], visibility="unlisted")
    with_token = [media_url(name, token=made.share_token) for name in (made.image.name, made.thumbnail.name)]
    viewer = page_client_for(None)
    assert [viewer.get(url).status_code for url in with_token] == [OK, OK]

    CHANGES[change](made, carol)

    assert [viewer.get(url).status_code for url in with_token] == [GONE, GONE]


def test_public_files_are_revalidated_and_private_ones_never_stored(alice: Any, drawn: Background) -> None:
    public = services.creation_create(owner=alice, background=kept(drawn), layers=[], visibility="public")
    private = services.creation_create(owner=alice, background=drawn, layers=[])

    public_response = page_client_for(None).get(media_url(public.image.name))
    private_response = page_client_for(alice).get(media_url(private.image.name))

    assert public_response["Cache-Control"] == "public, no-cache"
    assert private_response["Cache-Control"] == "private, no-store"
    assert public_response["Content-Type"] == "image/png"
    assert b"".join(public_response.streaming_content).startswith(b"\x89PNG")  # type: ignore[attr-defined]


def test_head_answers_like_get_without_a_body_and_404_for_the_unseen(alice: Any, drawn: Background) -> None:
    made = services.creation_create(owner=alice, background=kept(drawn), layers=[])

    mine = page_client_for(alice).head(media_url(made.thumbnail.name))
    theirs = page_client_for(None).head(media_url(made.thumbnail.name))

    assert (mine.status_code, mine["Content-Type"], int(mine["Content-Length"])) == (
        OK,
        "image/webp",
        made.thumbnail.size,
    )
    assert b"".join(mine.streaming_content) == b""  # type: ignore[attr-defined]
    assert theirs.status_code == GONE


def test_a_conditional_get_is_304_for_a_viewer_and_still_404_for_others(alice: Any, drawn: Background) -> None:
    made = services.creation_create(owner=alice, background=kept(drawn), layers=[])
    url = media_url(made.image.name)
    last_modified = page_client_for(alice).get(url)["Last-Modified"]

    assert page_client_for(alice).get(url, headers={"if-modified-since": last_modified}).status_code == 304
    assert page_client_for(None).get(url, headers={"if-modified-since": last_modified}).status_code == GONE


def test_behind_nginx_the_app_answers_with_x_accel_redirect(alice: Any, drawn: Background, settings: Any) -> None:
    settings.WEE_WAA_MEDIA_ACCEL_PREFIX = "/protected-media/"
    made = services.creation_create(owner=alice, background=kept(drawn), layers=[])

    mine = page_client_for(alice).get(media_url(made.image.name))
    head = page_client_for(alice).head(media_url(made.image.name))

    assert mine.status_code == OK
    assert mine["X-Accel-Redirect"] == f"/protected-media/{made.image.name}"
    assert (mine["Content-Type"], mine["Cache-Control"], mine.content) == ("image/png", "private, no-store", b"")
    assert head["X-Accel-Redirect"] == mine["X-Accel-Redirect"]
    assert page_client_for(None).get(media_url(made.image.name)).status_code == GONE  # nginx is never told


def test_on_s3_a_viewer_is_sent_to_a_presigned_url_that_expires_soon(
    alice: Any, drawn: Background, settings: Any
) -> None:
    made = services.creation_create(owner=alice, background=kept(drawn), layers=[])
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "wee-waa-test",
                "endpoint_url": "http://127.0.0.1:9",  # never contacted: presigning is local
                "access_key": "test-access-key",
                "secret_key": "test-secret-key",
                "region_name": "us-east-1",
                "querystring_auth": True,
                "querystring_expire": 300,
                "signature_version": "s3v4",
            },
        },
    }

    mine = page_client_for(alice).get(media_url(made.image.name))

    assert mine.status_code == 302
    location = mine["Location"]
    assert location.startswith("http://127.0.0.1:9/wee-waa-test/creations/")
    assert "X-Amz-Expires=300" in location and "X-Amz-Signature=" in location
    assert mine["Cache-Control"] == "private, no-store"
    assert page_client_for(None).get(media_url(made.image.name)).status_code == GONE


def test_the_media_settings_are_read_from_the_environment_and_checked() -> None:
    base = {key: value for key, value in os.environ.items() if not key.startswith("WEE_WAA_")}
    base["DJANGO_SETTINGS_MODULE"] = "wee_waa.settings"
    script = (
        "from django.conf import settings; print(settings.STORAGES['default']['OPTIONS']['querystring_expire'],"
        " settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src'][-1])"
    )

    s3 = subprocess.run(
        [sys.executable, "-c", script],
        env={
            **base,
            "WEE_WAA_S3_BUCKET": "pictures",
            "WEE_WAA_S3_URL_EXPIRE": "120",
            "WEE_WAA_S3_ENDPOINT_URL": "https://minio.example.com:9000/",
        },
        capture_output=True,
        text=True,
        check=False,
    )
    bad = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; settings.DEBUG"],
        env={**base, "WEE_WAA_MEDIA_ACCEL_PREFIX": "protected"},
        capture_output=True,
        text=True,
        check=False,
    )

    # Presigned for 120 s, and pages may show images that the redirect sends to the bucket.
    assert s3.stdout.split() == ["120", "https://minio.example.com:9000"], s3.stderr
    assert bad.returncode != 0 and "WEE_WAA_MEDIA_ACCEL_PREFIX must start and end with '/'" in bad.stderr


def test_unknown_names_leftovers_and_traversal_are_404(alice: Any, drawn: Background) -> None:
    leftover = default_storage.save("creations/leftover.png", default_storage.open(drawn.image.name))
    client = page_client_for(alice)

    for url in (
        "/media/creations/nope.png",
        f"/media/{leftover}",  # a file on disk that no row names
        "/media/../../etc/passwd",
        "/media/%2e%2e/%2e%2e/etc/passwd",
        "/media/backgrounds/",
        "/media/secret_key",
    ):
        assert client.get(url).status_code == GONE, url


def test_file_urls_in_pages_and_apis_all_go_through_the_media_view(
    alice: Any, alice_api: Any, drawn: Background
) -> None:
    made = services.creation_create(owner=alice, background=kept(drawn), layers=[], visibility="unlisted")

    api = alice_api.get(f"/api/v1/creations/{made.id}/").json()
    job = alice_api.get(f"/api/v1/jobs/{drawn.job_id}/").json()
    shared = page_client_for(None).get(f"/s/{made.share_token}/").content.decode()

    assert api["image"] == f"/media/{made.image.name}" and api["thumbnail"] == f"/media/{made.thumbnail.name}"
    assert [image["url"] for image in job["images"]] == [f"/media/{drawn.image.name}"]
    token_url = media_url(made.image.name, token=made.share_token)
    assert f'src="{token_url}"' in shared
    assert f'property="og:image" content="http://testserver{token_url}"' in shared
    assert page_client_for(None).get(token_url).status_code == OK  # what a chat app fetching og:image gets
