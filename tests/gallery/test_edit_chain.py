"""The chain of edits a picture descends from: kept as text, shown as far as the viewer may see."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from gallery import services as gallery_services
from generation import services
from generation.edits import chain_for
from generation.events import JobStatus
from generation.models import Background
from tests.clients import page_client_for
from tests.factories import drawn_background
from wee_waa.ids import new_public_id

pytestmark = pytest.mark.django_db


def edited(owner: Any, source: Background, prompt: str, *, mask: Image.Image | None = None) -> Background:
    """An edit of ``source`` queued through the service and finished as the manager would."""
    job = services.job_create(owner=owner, prompt=prompt, source_image=source, strength=0.5, mask=mask).job
    buffer = io.BytesIO()
    Image.new("RGB", (job.width, job.height), (200, 200, 250)).save(buffer, format="PNG")
    name = default_storage.save(f"backgrounds/{job.id}/{new_public_id()}.png", ContentFile(buffer.getvalue()))
    job.status = JobStatus.SUCCEEDED
    job.save(update_fields=["status"])
    return Background.objects.create(job=job, index=0, seed=job.seed, image=name, width=job.width, height=job.height)


def prompts(steps: list[Any]) -> list[str]:
    return [step.text["prompt"] for step in steps]


@pytest.fixture
def chain(alice: Any) -> list[Background]:
    drawn = drawn_background(alice, prompt="a quiet street")
    snowy = edited(alice, drawn, "make it snowy")
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (0, 0, 32, 32))
    moon = edited(alice, snowy, "add a moon", mask=mask)
    return [drawn, snowy, moon]


def test_each_picture_records_the_edits_it_came_from(alice: Any, chain: list[Background]) -> None:
    steps = chain_for(chain[2], alice)

    assert prompts(steps) == ["a quiet street", "make it snowy", "add a moon"]
    assert [step.kind_label for step in steps] == ["Drawn", "Edited", "Region changed"]
    assert [step.image for step in steps] == chain
    assert steps[2].current and steps[2].text["masked"] is True
    assert steps[1].text["strength"] == 0.5


def test_the_chain_survives_deleting_a_middle_step(alice: Any, chain: list[Background]) -> None:
    chain[1].job.delete()  # the snowy step, its picture and its job

    steps = chain_for(Background.objects.get(id=chain[2].id), alice)

    assert prompts(steps) == ["a quiet street", "make it snowy", "add a moon"]
    assert [step.image.id if step.image else None for step in steps] == [chain[0].id, None, chain[2].id]
    page = page_client_for(alice).get(f"/studio/?edit={chain[2].id}").content.decode()
    assert "make it snowy" in page and "deleted" in page


def test_others_see_the_chain_only_as_far_back_as_they_may_see_each_step(
    alice: Any, bob: Any, chain: list[Background]
) -> None:
    drawn, snowy, moon = chain
    gallery_services.creation_create(owner=alice, background=moon, layers=[], visibility="public")

    assert prompts(chain_for(moon, bob)) == ["add a moon"]  # the earlier steps are private
    assert prompts(chain_for(moon, None)) == ["add a moon"]

    gallery_services.creation_create(owner=alice, background=drawn, layers=[], visibility="public")
    # The first step is public now, but the one between is not: the chain still stops there.
    assert prompts(chain_for(moon, bob)) == ["add a moon"]

    gallery_services.creation_create(owner=alice, background=snowy, layers=[], visibility="public")
    assert prompts(chain_for(moon, bob)) == ["a quiet street", "make it snowy", "add a moon"]
    assert prompts(chain_for(moon, alice)) == ["a quiet street", "make it snowy", "add a moon"]


def test_a_deleted_step_is_text_for_its_owner_only(alice: Any, bob: Any, chain: list[Background]) -> None:
    drawn, snowy, moon = chain
    for picture in (drawn, snowy, moon):
        gallery_services.creation_create(owner=alice, background=picture, layers=[], visibility="public")
    snowy.job.delete()

    assert prompts(chain_for(moon, bob)) == ["add a moon"]
    assert prompts(chain_for(moon, alice)) == ["a quiet street", "make it snowy", "add a moon"]


def test_the_creation_page_shows_the_chain_with_links_only_to_visible_steps(
    alice: Any, bob: Any, chain: list[Background]
) -> None:
    drawn, snowy, moon = chain
    creation = gallery_services.creation_create(owner=alice, background=moon, layers=[], visibility="public")
    gallery_services.creation_create(owner=alice, background=snowy, layers=[], visibility="public")

    owner_page = page_client_for(alice).get(f"/c/{creation.id}/").content.decode()
    other_page = page_client_for(bob).get(f"/c/{creation.id}/").content.decode()

    assert "How this picture was made" in owner_page and "a quiet street" in owner_page
    assert "make it snowy" in other_page and "a quiet street" not in other_page
    assert drawn.image.name not in other_page


def test_a_picture_drawn_from_a_prompt_shows_no_chain(alice: Any) -> None:
    drawn = drawn_background(alice)
    creation = gallery_services.creation_create(owner=alice, background=drawn, layers=[], visibility="public")

    assert "How this picture was made" not in page_client_for(alice).get(f"/c/{creation.id}/").content.decode()


def test_the_studio_refuses_to_edit_a_picture_the_viewer_may_not_see(alice: Any, bob: Any) -> None:
    drawn = drawn_background(alice)

    page = page_client_for(bob).get(f"/studio/?edit={drawn.id}")

    assert page.status_code == 200
    assert "cannot be edited" in page.content.decode()
    assert drawn.image.name not in page.content.decode()


def test_editing_someone_elses_public_picture_copies_only_the_steps_the_editor_may_see(
    alice: Any, bob: Any, chain: list[Background]
) -> None:
    moon = chain[2]
    gallery_services.creation_create(owner=alice, background=moon, layers=[], visibility="public")

    bobs = edited(bob, moon, "at night")

    assert [step["prompt"] for step in bobs.job.provenance] == ["add a moon"]
    assert prompts(chain_for(bobs, bob)) == ["add a moon", "at night"]


def test_a_shared_link_shows_the_chain_only_as_far_back_as_the_viewer_may_see(
    alice: Any, chain: list[Background]
) -> None:
    drawn, snowy, moon = chain
    shared = gallery_services.creation_create(owner=alice, background=moon, layers=[], visibility="unlisted")
    gallery_services.creation_create(owner=alice, background=snowy, layers=[], visibility="public")
    url = f"/s/{shared.share_token}/"

    owner = page_client_for(alice).get(url)
    stranger = page_client_for(None).get(url)

    assert owner.status_code == stranger.status_code == 200
    assert "a quiet street" in owner.content.decode() and "add a moon" in owner.content.decode()
    assert "a quiet street" not in stranger.content.decode()  # the first step is alice's alone
    assert drawn.image.name not in stranger.content.decode()
