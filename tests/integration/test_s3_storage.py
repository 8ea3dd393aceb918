"""Pictures kept in an S3 bucket for real: moto's standalone S3 server, the settings that
``WEE_WAA_S3_*`` produce, and (in the end-to-end test) the real ``manage.py serve``.

Each step of a picture's life is checked in the bucket (``list_objects_v2``) and through its
``/media/`` URL, which asks the visibility rules and then redirects to a short-lived presigned
URL. moto serves presigned URLs after they expire (it checks neither expiry nor signature), so
the tests check the signature themselves, as S3 does: it is valid, it covers the lifetime
(``WEE_WAA_S3_URL_EXPIRE``), and that lifetime has passed when S3 would refuse the URL.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from gallery import services
from gallery.characters import ensure_characters
from gallery.media import media_url
from gallery.models import Character, Creation
from tests.clients import page_client_for
from tests.environment import UNDER_CI
from tests.factories import drawn_background
from tests.integration.s3 import (
    CREDENTIALS,
    MotoS3,
    MotoUnavailable,
    app_settings,
    fetch,
    moto_server,
    presigned_signature_holds,
    signed_query,
)
from tests.live_server import Client, Server, running_server

pytestmark = pytest.mark.integration

EXPIRE = 2  # seconds a presigned URL lives in these tests
AMZ_DATE = "%Y%m%dT%H%M%SZ"


@pytest.fixture(scope="module")
def s3() -> Iterator[MotoS3]:
    with ExitStack() as stack:
        try:
            server = stack.enter_context(moto_server())
        except MotoUnavailable as exc:
            if UNDER_CI:
                pytest.fail(f"Under CI=true moto must start: {exc}")
            pytest.skip(str(exc))
        yield server


@pytest.fixture(scope="module")
def s3_storages(s3: MotoS3) -> dict[str, Any]:
    """``STORAGES`` as wee_waa/settings.py builds it for ``WEE_WAA_S3_*`` (bucket filled in per test)."""
    return dict(app_settings(s3.app_env("placeholder", expire=EXPIRE), "STORAGES")["STORAGES"])


@pytest.fixture
def bucket(s3: MotoS3, s3_storages: dict[str, Any], settings: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket that this process's default storage writes to, configured as deployed."""
    name = s3.new_bucket()
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    storages = copy.deepcopy(s3_storages)
    storages["default"]["OPTIONS"]["bucket_name"] = name
    settings.STORAGES = storages  # Django drops the cached default storage on this change
    return name


def png(colour: tuple[int, int, int, int], size: int = 32) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (size, size), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def assert_presigned(location: str, endpoint: str, bucket: str, key: str) -> None:
    """A path-style URL on the bucket's endpoint, signed (SigV4) for ``EXPIRE`` seconds from now."""
    assert location.startswith(f"{endpoint}/{bucket}/{key}?"), location
    query = signed_query(location)
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256" and query["X-Amz-Signature"], location
    assert query["X-Amz-Expires"] == str(EXPIRE), location
    assert abs((dt.datetime.now(dt.UTC) - signed_at(location)).total_seconds()) < 30, location
    assert presigned_signature_holds(location), location


def signed_at(url: str) -> dt.datetime:
    return dt.datetime.strptime(signed_query(url)["X-Amz-Date"], AMZ_DATE).replace(tzinfo=dt.UTC)


def expired(url: str) -> bool:
    """Past the lifetime the URL was signed with, so S3 answers 403 (moto does not check)."""
    lifetime = dt.timedelta(seconds=int(signed_query(url)["X-Amz-Expires"]))
    return dt.datetime.now(dt.UTC) > signed_at(url) + lifetime


# ---- In this process: the storage configured by the real settings ------------------------


@pytest.mark.django_db
def test_uploads_carry_no_acl_so_buckets_with_acls_disabled_take_them_and_objects_stay_private(
    s3: MotoS3, bucket: str
) -> None:
    sent: list[dict[str, Any]] = []
    client = default_storage.connection.meta.client  # type: ignore[attr-defined]
    client.meta.events.register("before-parameter-build.s3.PutObject", lambda params, **_: sent.append(dict(params)))

    name = default_storage.save("characters/probe.png", ContentFile(png((1, 2, 3, 255))))

    # New AWS buckets have ACLs disabled and refuse any ACL but bucket-owner-full-control.
    assert sent and all("ACL" not in params for params in sent), sent
    grants = s3.client().get_object_acl(Bucket=bucket, Key=name)["Grants"]
    assert [grant["Grantee"]["Type"] for grant in grants] == ["CanonicalUser"], grants  # the owner only
    assert s3.client().head_object(Bucket=bucket, Key=name)["ContentType"] == "image/png"


@pytest.mark.django_db
def test_two_characters_uploaded_under_one_file_name_keep_their_own_pictures(
    s3: MotoS3, bucket: str, django_capture_on_commit_callbacks: Any
) -> None:
    red, blue = png((255, 0, 0, 255)), png((0, 0, 255, 255))
    first = Character(slug="cat-one", name="Cat one")
    first.image.save("cat.png", ContentFile(red))
    second = Character(slug="cat-two", name="Cat two")
    second.image.save("cat.png", ContentFile(blue))

    assert first.image.name != second.image.name
    assert (s3.body(bucket, first.image.name), s3.body(bucket, second.image.name)) == (red, blue)
    with django_capture_on_commit_callbacks(execute=True):
        first.delete()
    assert s3.keys(bucket, "characters/") == {second.image.name}


@pytest.mark.django_db
def test_a_creation_is_drawn_from_the_bucket_and_its_objects_go_only_when_the_delete_commits(
    s3: MotoS3, bucket: str, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    pip = next(character for character in ensure_characters() if character.slug == "pip")
    background = drawn_background(alice, size=96)
    layers = [{"character": pip.id, "x": 0.5, "y": 0.7, "scale": 0.5}]

    made = services.creation_create(owner=alice, background=background, layers=layers)

    files = {made.image.name, made.thumbnail.name}
    assert files <= s3.keys(bucket, "creations/")
    with Image.open(io.BytesIO(s3.body(bucket, made.image.name))) as picture:
        assert (picture.format, picture.size) == ("PNG", (made.width, made.height))
        assert len(picture.convert("RGB").getcolors(1 << 16) or ()) > 1  # Pip is on it, not just the plain background
    with Image.open(io.BytesIO(s3.body(bucket, made.thumbnail.name))) as thumbnail:
        assert thumbnail.format == "WEBP"

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        Creation.objects.get(pk=made.pk).delete()
        raise RuntimeError("rolled back")
    assert not callbacks and files <= s3.keys(bucket, "creations/")

    with django_capture_on_commit_callbacks(execute=True):
        services.creation_delete(creation=made)
    assert not s3.keys(bucket, "creations/")
    assert background.image.name in s3.keys(bucket, "backgrounds/")  # the background stays kept


@pytest.mark.django_db
def test_a_new_render_replaces_the_old_objects_in_the_bucket(s3: MotoS3, bucket: str, alice: Any) -> None:
    made = services.creation_create(owner=alice, background=drawn_background(alice), layers=[])
    old = {made.image.name, made.thumbnail.name}
    pip = next(character for character in ensure_characters() if character.slug == "pip")

    services.creation_update(creation=made, layers=[{"character": pip.id, "x": 0.5, "y": 0.5, "scale": 0.3}])

    assert s3.keys(bucket, "creations/") == {made.image.name, made.thumbnail.name}
    assert not old & s3.keys(bucket, "creations/")


@pytest.mark.django_db
def test_the_media_view_checks_the_viewer_then_sends_a_presigned_url_that_serves_the_bytes(
    s3: MotoS3, bucket: str, alice: Any, bob: Any
) -> None:
    background = drawn_background(alice, kept=False)
    url = media_url(background.image.name)

    mine = page_client_for(alice).get(url)

    assert mine.status_code == 302 and mine["Cache-Control"] == "private, no-store"
    assert_presigned(mine["Location"], s3.endpoint, bucket, background.image.name)
    assert fetch(mine["Location"]).body == s3.body(bucket, background.image.name)
    assert page_client_for(bob).get(url).status_code == 404
    assert page_client_for(None).get(url).status_code == 404


# ---- End to end: the real server, configured only by its environment --------------------


def test_a_picture_lives_in_the_bucket_from_drawing_to_deletion(s3: MotoS3, model_cache: Path) -> None:
    bucket = s3.new_bucket()
    env = {**s3.app_env(bucket, expire=EXPIRE), "WEE_WAA_MODEL_CACHE": str(model_cache)}
    with running_server(extra_env=env) as server:
        journey(server, s3, bucket)


def journey(server: Server, s3: MotoS3, bucket: str) -> None:
    """Generate, keep, compose, share by link, revoke the link, publish and unpublish, delete."""

    def answer(path: str, client: Client | None = None) -> Any:
        return fetch(f"{server.url}{path}", client.jar if client else None)

    def served_from_bucket(path: str, key: str, client: Client | None = None) -> None:
        redirect = answer(path, client)
        assert redirect.status == 302, (path, redirect.status)
        assert_presigned(redirect.location, s3.endpoint, bucket, key)
        got = fetch(redirect.location)
        assert got.status == 200 and got.body == s3.body(bucket, key), key

    # Starting up added the shipped characters, into the bucket and nowhere on disk.
    characters = s3.keys(bucket, "characters/")
    assert len(characters) >= 6
    assert not [path for path in (server.data_dir / "media").rglob("*") if path.is_file()]
    alice = Client(server.url)
    alice.sign_up()
    [pip] = [item for item in json.loads(answer("/api/v1/characters/", alice).body) if item["name"] == "Pip"]
    pip_key = pip["image"].removeprefix("/media/")
    assert pip_key in characters
    served_from_bucket(pip["image"], pip_key)  # a character is for everyone, through the same view

    # Generate the smallest picture: its file is in the bucket, for its owner only.
    job = alice.create_job({"prompt": "a lighthouse", "count": 1, "width": 64, "height": 64, "steps": 1})
    job = wait_for(alice, job)
    [image] = job["images"]
    background_key = image["url"].removeprefix("/media/")
    assert s3.keys(bucket, "backgrounds/") == {background_key}
    served_from_bucket(image["url"], background_key, alice)
    assert answer(image["url"]).status == 404

    # Keep it and compose a creation with Pip on it, shared by an unlisted link.
    alice.api("POST", f"/api/v1/jobs/{job['id']}/keep/", {"image": image["id"]})
    layers = [{"character": pip["id"], "x": 0.5, "y": 0.6, "scale": 0.5}]
    creation = alice.api(
        "POST", "/api/v1/creations/", {"background": image["id"], "layers": layers, "visibility": "unlisted"}
    )
    picture_key, thumb_key = (creation[field].removeprefix("/media/") for field in ("image", "thumbnail"))
    assert s3.keys(bucket, "creations/") == {picture_key, thumb_key}
    served_from_bucket(creation["image"], picture_key, alice)
    served_from_bucket(creation["thumbnail"], thumb_key, alice)
    assert answer(creation["image"]).status == 404

    shared = answer(creation["share_url"].removeprefix(server.url))
    assert shared.status == 200
    token = creation["share_url"].rstrip("/").rsplit("/", 1)[1]
    with_token = media_url(picture_key, token=token)
    assert with_token in shared.body.decode()
    served_from_bucket(with_token, picture_key)
    img_src = re.search(r"img-src ([^;]*)", shared.headers["Content-Security-Policy"])
    assert img_src and s3.endpoint in img_src.group(1).split()  # the browser may follow the redirect

    # Revoke the link: the old token opens nothing, at once; the new one does.
    renewed = alice.api("POST", f"/api/v1/creations/{creation['id']}/share-link/")
    assert answer(with_token).status == 404
    served_from_bucket(media_url(picture_key, token=renewed["share_url"].rstrip("/").rsplit("/", 1)[1]), picture_key)

    # Public: anyone is redirected; then private again: the next request is a 404.
    alice.api("PATCH", f"/api/v1/creations/{creation['id']}/", {"visibility": "public"})
    public = answer(creation["image"])
    assert public.status == 302 and public.headers["Cache-Control"] == "public, no-cache"
    alice.api("PATCH", f"/api/v1/creations/{creation['id']}/", {"visibility": "private"})
    assert answer(creation["image"]).status == 404

    # A presigned URL lives EXPIRE seconds and its signature covers that lifetime, so a holder
    # cannot stretch it; the owner's next visit to /media/ gets a fresh one.
    first = answer(creation["image"], alice).location
    assert not presigned_signature_holds(first.replace(f"X-Amz-Expires={EXPIRE}", "X-Amz-Expires=604800"))
    time.sleep(EXPIRE + 1)
    assert expired(first)
    served_from_bucket(creation["image"], picture_key, alice)

    # Delete the creation: its objects leave the bucket once the delete commits.
    delete(server, alice, f"/api/v1/creations/{creation['id']}/")
    assert not s3.keys(bucket, "creations/")
    assert answer(creation["image"], alice).status == 404
    assert answer(creation["thumbnail"], alice).status == 404
    assert s3.keys(bucket, "backgrounds/") == {background_key}  # still kept, still hers

    # An account deleted by an admin takes its pictures' objects with it; characters stay.
    server.manage(
        "shell", "-c", f"from accounts.models import User; User.objects.get(username='{alice.username}').delete()"
    )
    assert not s3.keys(bucket, "backgrounds/")
    assert s3.keys(bucket, "characters/") == characters


def wait_for(client: Client, job: dict[str, Any], timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while job["status"] != "succeeded":
        assert job["status"] in {"queued", "running"} and time.monotonic() < deadline, job
        time.sleep(0.2)
        job = client.api("GET", f"/api/v1/jobs/{job['id']}/")
    return job


def delete(server: Server, client: Client, path: str) -> None:
    request = urllib.request.Request(  # noqa: S310 - our own test server
        f"{server.url}{path}", method="DELETE", headers={"X-CSRFToken": client.cookie("csrftoken")}
    )
    with client.opener.open(request) as response:
        assert response.status == 204
