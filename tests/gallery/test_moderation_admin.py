"""Moderators work in Django admin: the report queue, hide/restore, ban, and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from gallery import services
from gallery.models import ModerationLog, Report
from generation.manager.worker import ModelManager
from generation.models import Background
from tests.factories import queue_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(alice: Any, bob: Any, manager: ModelManager) -> Report:
    queue_job(alice, prompt="a quiet lake at dawn")
    manager.run_once()
    background = Background.objects.get(job__owner=alice)
    creation = services.creation_create(owner=alice, background=background, layers=[], visibility="public")
    return services.creation_report(reporter=bob, creation=creation, reason="I do not like it")


def test_the_report_queue_shows_the_picture_prompt_owner_and_reason(admin_client: Client, reported: Report) -> None:
    html = admin_client.get("/admin/gallery/report/").content.decode()

    assert reported.creation.thumbnail.url in html
    assert "a quiet lake at dawn" in html
    assert "alice" in html and "I do not like it" in html


def test_hiding_from_the_queue_takes_the_picture_down_and_logs_who_did_it(
    admin_client: Client, admin_user: User, reported: Report
) -> None:
    response = admin_client.post(
        "/admin/gallery/report/", {"action": "hide_reported", "_selected_action": [reported.pk]}, follow=True
    )

    assert response.status_code == 200
    reported.creation.refresh_from_db()
    assert reported.creation.moderation == "hidden"
    assert Client().get(f"/s/{reported.creation.share_token}/").status_code == 404
    log = ModerationLog.objects.get()
    assert (log.actor, log.action) == (admin_user, "hide")


def test_banning_from_the_queue_refuses_the_owners_login(admin_client: Client, reported: Report) -> None:
    admin_client.post("/admin/gallery/report/", {"action": "ban_owners", "_selected_action": [reported.pk]})

    owner = User.objects.get(username="alice")
    assert owner.is_active is False
    assert not Client().login(username="alice", password="correct horse battery")
    assert ModerationLog.objects.get().action == "ban"


def test_the_audit_trail_cannot_be_edited(admin_client: Client, admin_user: User, reported: Report) -> None:
    services.creation_moderate(actor=admin_user, creation=reported.creation, hide=True)
    log = ModerationLog.objects.get()

    assert admin_client.get(f"/admin/gallery/moderationlog/{log.pk}/delete/").status_code == 403
