"""Remix: from any creation the viewer may see, a new creation of theirs that names its source."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.base import ContentFile
from PIL import Image

from gallery import services
from gallery.models import Character, Creation
from generation.events import JobStatus
from generation.manager.worker import ModelManager
from generation.models import Background, GenerationJob
from tests.conftest import _client_for
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(alice: Any, manager: ModelManager) -> Creation:
    queue_job(alice, prompt="a windy pier", width=64, height=64)
    manager.run_once()
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (255, 0, 0, 255)).save(buffer, format="PNG")
    character = Character(slug="dot", name="Dot", width=8, height=8)
    character.image.save("dot.png", ContentFile(buffer.getvalue()), save=False)
    character.save()
    layers = [{"character": character.id, "x": 0.3, "y": 0.6, "scale": 0.25, "flip": True, "z": 1}]
    background = Background.objects.get(job__owner=alice)
    return services.creation_create(owner=alice, background=background, layers=layers, visibility="public")


def test_a_remix_copies_background_and_layers_and_names_its_source(bob: Any, source: Creation) -> None:
    response = _client_for(bob).post(f"/api/v1/creations/{source.id}/remix/", {}, format="json")

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

    assert _client_for(bob).post(f"/api/v1/creations/{source.id}/remix/", {}, format="json").status_code == 404


def test_an_unlisted_creation_is_remixed_with_its_link_token(bob: Any, source: Creation) -> None:
    services.creation_visibility_set(creation=source, visibility="unlisted")
    api = _client_for(bob)

    assert api.post(f"/api/v1/creations/{source.id}/remix/", {}, format="json").status_code == 404
    with_token = api.post(f"/api/v1/creations/{source.id}/remix/", {"token": source.share_token}, format="json")
    assert with_token.status_code == 201


def test_generate_similar_queues_the_prompt_again_with_a_new_seed(bob: Any, source: Creation) -> None:
    response = _client_for(bob).post(f"/api/v1/creations/{source.id}/generate-similar/", {}, format="json")

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
