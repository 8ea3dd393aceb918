"""Previews are drawn only for owners someone is watching, and not for jobs of two steps."""

from __future__ import annotations

from typing import Any

import pytest

from generation.manager.worker import ModelManager
from generation.sockets import is_watched, unwatch, watch
from tests.doubles import RecordingPublisher
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


def preview_owners(publisher: RecordingPublisher) -> list[Any]:
    return [owner for owner, event in publisher.events if event["type"] == "job.preview"]


def test_only_watched_owners_get_previews(
    manager: ModelManager, publisher: RecordingPublisher, alice: Any, bob: Any
) -> None:
    manager.preview_every = 1
    manager.watching = lambda owner: owner == alice.pk
    queue_job(alice, steps=3)
    queue_job(bob, steps=3)

    manager.run_once()

    assert preview_owners(publisher) == [alice.pk] * 3
    bob_types = [event["type"] for owner, event in publisher.events if owner == bob.pk]
    assert bob_types[-1] == "job.finished" and "job.progress" in bob_types


def test_a_job_of_two_steps_gets_no_previews(manager: ModelManager, publisher: RecordingPublisher, alice: Any) -> None:
    manager.preview_every = 1
    queue_job(alice, steps=2)

    manager.run_once()

    assert preview_owners(publisher) == []
    assert dict(publisher.events[-1][1]).get("status") == "succeeded"


def test_an_open_socket_marks_its_owner_as_watched_until_it_closes() -> None:
    assert is_watched(424242) is False
    watch(424242)
    watch(424242)
    unwatch(424242)
    assert is_watched(424242) is True
    unwatch(424242)
    assert is_watched(424241) is False
