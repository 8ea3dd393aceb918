"""The blocklist lives in the service that queues jobs, so every way to queue one passes it:
the jobs API, "generate similar" from a creation, and any caller of ``job_create``."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from gallery import services as gallery_services
from generation import services
from generation.models import BlockedPhrase, GenerationJob
from tests.clients import api_client_for
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


def test_job_create_refuses_a_blocked_prompt_naming_the_prompt_field(alice: Any) -> None:
    BlockedPhrase.objects.create(phrase="grumpy wizard")

    with pytest.raises(ValidationError) as refused:
        services.job_create(owner=alice, prompt="  a Grumpy Wizard at dawn ", width=64, height=64, steps=1)

    assert "does not allow" in refused.value.message_dict["prompt"][0]
    assert not GenerationJob.objects.exists()


def test_generate_similar_refuses_a_prompt_blocked_since_it_was_drawn(alice: Any, bob: Any) -> None:
    background = drawn_background(alice, prompt="a grumpy wizard on a pier")
    source = gallery_services.creation_create(owner=alice, background=background, layers=[], visibility="public")
    BlockedPhrase.objects.create(phrase="grumpy wizard")

    response = api_client_for(bob).post(f"/api/v1/creations/{source.id}/generate-similar/", {}, format="json")

    assert response.status_code == 400
    assert "does not allow" in response.json()["prompt"][0]
    assert not GenerationJob.objects.filter(owner=bob).exists()
