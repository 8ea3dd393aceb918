"""Remix: from any creation the viewer may see, a new creation of theirs that names its source,
credits its author, and is shown to others only while everything it comes from is public."""

from __future__ import annotations

import io
from importlib import import_module
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from accounts.models import User
from gallery import services
from gallery.media import media_url
from gallery.models import Character, Creation, ModerationLog
from generation.events import JobStatus
from generation.models import GenerationJob
from tests.clients import api_client_for, page_client_for
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(alice: Any) -> Creation:
    background = drawn_background(alice, kept=False, prompt="a windy pier")
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (255, 0, 0, 255)).save(buffer, format="PNG")
    character = Character(slug="dot", name="Dot", width=8, height=8)
    character.image.save("dot.png", ContentFile(buffer.getvalue()), save=False)
    character.save()
    layers = [{"character": character.id, "x": 0.3, "y": 0.6, "scale": 0.25, "flip": True, "z": 1}]
    return services.creation_create(owner=alice, background=background, layers=layers, visibility="public")


def test_a_remix_copies_background_and_layers_and_names_its_source(bob: Any, source: Creation) -> None:
    response = api_client_for(bob).post(f"/api/v1/creations/{source.id}/remix/", {}, format="json")

    assert response.status_code == 201
    remix = Creation.objects.get(id=response.json()["id"])
    assert remix.owner == bob and remix.visibility == "private"
    assert remix.background_id == source.background_id
    assert remix.layers == source.layers
    assert remix.remixed_from == source
    assert remix.provenance["remix_of"] == source.id
    assert remix.provenance["prompt"] == "a windy pier"


def test_a_private_creation_cannot_be_remixed_by_others(bob: Any, source: Creation) -> None:
    services.creation_visibility_set(creation=source, visibility="private")

    assert api_client_for(bob).post(f"/api/v1/creations/{source.id}/remix/", {}, format="json").status_code == 404


def test_an_unlisted_creation_is_remixed_with_its_link_token(bob: Any, source: Creation) -> None:
    services.creation_visibility_set(creation=source, visibility="unlisted")
    api = api_client_for(bob)

    assert api.post(f"/api/v1/creations/{source.id}/remix/", {}, format="json").status_code == 404
    with_token = api.post(f"/api/v1/creations/{source.id}/remix/", {"token": source.share_token}, format="json")
    assert with_token.status_code == 201


def test_generate_similar_queues_the_prompt_again_with_a_new_seed(bob: Any, source: Creation) -> None:
    response = api_client_for(bob).post(f"/api/v1/creations/{source.id}/generate-similar/", {}, format="json")

    assert response.status_code == 201
    job = GenerationJob.objects.get(id=response.json()["job"])
    original = source.background.job
    assert (job.owner, job.status, job.prompt) == (bob, JobStatus.QUEUED, "a windy pier")
    assert job.seed != original.seed  # drawn at random: equal once in four billion
    assert (job.width, job.height, job.steps, job.style_id) == (
        original.width,
        original.height,
        original.steps,
        original.style_id,
    )


def test_the_creation_page_offers_remix_to_signed_in_viewers_only(bob: Any, source: Creation) -> None:
    from django.test import Client

    signed_in = Client()
    signed_in.force_login(bob)

    assert 'id="remix"' in signed_in.get(f"/c/{source.id}/").content.decode()
    assert 'id="generate-similar"' in signed_in.get(f"/c/{source.id}/").content.decode()
    assert 'id="remix"' not in Client().get(f"/c/{source.id}/").content.decode()


# ---- Takedowns and shared links: the rules a remix obeys -----------------------------------


@pytest.fixture
def carol(db: None) -> User:
    return User.objects.create_user("carol", "carol@example.com", "correct horse battery", is_staff=True)


@pytest.fixture
def dave(db: None) -> User:
    return User.objects.create_user("dave", "dave@example.com", "correct horse battery")


def published_remix(owner: Any, source: Creation) -> Creation:
    remix = services.creation_remix(owner=owner, source=source)
    return services.creation_visibility_set(creation=remix, visibility="public")


def seen_by_anyone(creation: Creation) -> tuple[int, int, bool]:
    """The page, the picture file and whether Explore lists it, for an anonymous visitor."""
    anonymous = Client()
    return (
        anonymous.get(f"/c/{creation.id}/").status_code,
        anonymous.get(media_url(creation.image.name)).status_code,
        creation.id in anonymous.get("/explore/").content.decode(),
    )


def test_a_hidden_creation_cannot_be_remixed_not_even_by_its_owner(
    alice: Any, bob: Any, carol: Any, source: Creation
) -> None:
    services.creation_moderate(actor=carol, creation=source, hide=True)
    url = f"/api/v1/creations/{source.id}/remix/"

    by_owner = api_client_for(alice).post(url, {}, format="json")

    assert by_owner.status_code == 400
    assert "Moderators hid this picture, so it cannot be remixed." in by_owner.json()["detail"]
    assert api_client_for(bob).post(url, {}, format="json").status_code == 404
    assert api_client_for(carol).post(url, {}, format="json").status_code == 400  # staff see it, to moderate
    assert Creation.objects.count() == 1
    assert 'id="remix"' not in page_client_for(alice).get(f"/c/{source.id}/").content.decode()


def test_a_remix_credits_its_source_and_author_with_a_link_for_those_who_may_see_it(
    alice: Any, bob: Any, source: Creation
) -> None:
    services.creation_update(creation=source, title="Windy <pier>")
    remix = services.creation_remix(owner=bob, source=source)

    assert remix.provenance["remix_of"] == source.id
    assert (remix.provenance["remix_of_title"], remix.provenance["remix_of_author"]) == ("Windy <pier>", "alice")
    page = page_client_for(bob).get(f"/c/{remix.id}/").content.decode()
    assert f'Remix of <a href="/c/{source.id}/">Windy &lt;pier&gt;</a> by alice' in page

    services.creation_visibility_set(creation=source, visibility="private")

    page = page_client_for(bob).get(f"/c/{remix.id}/").content.decode()
    assert "Remix of Windy &lt;pier&gt; by alice" in page and f'href="/c/{source.id}/"' not in page


def test_a_remix_made_through_an_unlisted_link_stays_private_until_the_source_is_public(
    alice: Any, bob: Any, source: Creation
) -> None:
    services.creation_visibility_set(creation=source, visibility="unlisted")
    api = api_client_for(bob)
    made = api.post(f"/api/v1/creations/{source.id}/remix/", {"token": source.share_token}, format="json")
    assert made.status_code == 201 and made.json()["visibility"] == "private"
    url = f"/api/v1/creations/{made.json()['id']}/"

    for visibility in ("public", "unlisted"):
        refused = api.patch(url, {"visibility": visibility}, format="json")
        assert refused.status_code == 400
        assert "is a remix of one that is not public, so it stays private" in " ".join(refused.json()["detail"])
    assert api.patch(url, {"visibility": "private", "title": "mine"}, format="json").status_code == 200
    assert (
        "stays private while the picture it comes from is not public"
        in page_client_for(bob).get(f"/c/{made.json()['id']}/").content.decode()
    )

    services.creation_visibility_set(creation=source, visibility="public")

    assert api.patch(url, {"visibility": "public"}, format="json").status_code == 200


@pytest.mark.parametrize("change", ["private", "unlisted", "hidden", "owner banned"])
def test_when_a_public_source_stops_being_public_its_remixes_disappear_for_others(
    bob: Any, carol: Any, source: Creation, change: str
) -> None:
    remix = published_remix(bob, source)
    assert seen_by_anyone(remix) == (200, 200, True)

    if change == "hidden":
        services.creation_moderate(actor=carol, creation=source, hide=True)
    elif change == "owner banned":
        services.user_ban(actor=carol, user=source.owner)
    else:
        services.creation_visibility_set(creation=source, visibility=change)

    assert seen_by_anyone(remix) == (404, 404, False)
    assert page_client_for(bob).get(f"/c/{remix.id}/").status_code == 200  # the remixer keeps theirs
    # ... and its background in the editor, unless it is a banned user's file (staff only).
    assert page_client_for(bob).get(media_url(remix.background.image.name)).status_code == (
        404 if change == "owner banned" else 200
    )


def test_the_rule_reaches_down_a_chain_of_remixes_and_back(bob: Any, dave: Any, source: Creation) -> None:
    first = published_remix(bob, source)
    second = published_remix(dave, first)
    assert set(second.ancestors.all()) == {source, first}

    services.creation_visibility_set(creation=source, visibility="private")

    assert seen_by_anyone(first) == seen_by_anyone(second) == (404, 404, False)

    services.creation_visibility_set(creation=source, visibility="public")

    assert seen_by_anyone(second) == (200, 200, True)


def test_hiding_a_source_hides_its_remixes_and_restoring_it_restores_only_those(
    bob: Any, carol: Any, dave: Any, source: Creation
) -> None:
    first = published_remix(bob, source)
    second = published_remix(dave, first)
    hidden_alone = published_remix(bob, source)
    services.creation_moderate(actor=carol, creation=hidden_alone, hide=True, note="its own reasons")

    services.creation_moderate(actor=carol, creation=source, hide=True, note="reported")

    states = {c.id: (c.moderation, c.hidden_with_id) for c in Creation.objects.all()}
    assert states[first.id] == states[second.id] == ("hidden", source.id)
    assert states[hidden_alone.id] == ("hidden", None)
    logs = {(log.creation_id, log.action): log.note for log in ModerationLog.objects.filter(action="hide")}
    assert logs[(source.id, "hide")] == "reported 2 remix(es) hidden with it."
    assert logs[(first.id, "hide")] == logs[(second.id, "hide")] == f"Remix of {source.id}: hidden with it."
    assert seen_by_anyone(second) == (404, 404, False)

    services.creation_moderate(actor=carol, creation=source, hide=False)

    assert {c.id: c.moderation for c in Creation.objects.all()} == {
        source.id: "visible",
        first.id: "visible",
        second.id: "visible",
        hidden_alone.id: "hidden",
    }
    restored = set(ModerationLog.objects.filter(action="restore").values_list("creation_id", "note"))
    assert restored == {
        (source.id, "2 remix(es) restored with it."),
        (first.id, f"Remix of {source.id}: restored with it."),
        (second.id, f"Remix of {source.id}: restored with it."),
    }
    assert seen_by_anyone(second) == (200, 200, True)


def test_a_remix_of_a_hidden_remix_is_refused_too(bob: Any, carol: Any, dave: Any, source: Creation) -> None:
    first = published_remix(bob, source)
    services.creation_moderate(actor=carol, creation=source, hide=True)
    first.refresh_from_db()

    with pytest.raises(ValidationError):
        services.creation_remix(owner=bob, source=first)


def test_a_deleted_source_leaves_its_remix_standing_with_its_credit(alice: Any, bob: Any, source: Creation) -> None:
    remix = published_remix(bob, source)

    services.creation_delete(creation=source)

    assert seen_by_anyone(remix) == (200, 200, True)
    assert "Remix of A Wee-Waa picture by alice" not in Client().get(f"/c/{remix.id}/").content.decode()
    assert "Remix of an untitled picture by alice" in Client().get(f"/c/{remix.id}/").content.decode()


def test_the_migration_gives_existing_remixes_their_whole_lineage(bob: Any, dave: Any, source: Creation) -> None:
    from django.apps import apps

    fill_ancestors = import_module("gallery.migrations.0002_remix_lineage_and_media_lookup").fill_ancestors
    first = services.creation_remix(owner=bob, source=source)
    second = services.creation_remix(owner=dave, source=first)
    Creation.ancestors.through.objects.all().delete()  # as before the column existed

    fill_ancestors(apps, None)

    assert set(second.ancestors.all()) == {source, first}
    assert set(first.ancestors.all()) == {source}
    assert not source.ancestors.exists()
