"""Moderators work in Django admin: the report queue, hide/restore, bans from the queue and the
user admin, deleting users, and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.test import Client

from accounts.models import User
from gallery import services
from gallery.media import media_url
from gallery.models import Creation, ModerationLog, Report
from generation.events import JobStatus
from generation.models import GenerationJob
from tests.factories import drawn_background, queue_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(alice: Any, bob: Any) -> Report:
    background = drawn_background(alice, kept=False, prompt="a quiet lake at dawn")
    creation = services.creation_create(owner=alice, background=background, layers=[], visibility="public")
    return services.creation_report(reporter=bob, creation=creation, reason="I do not like it")


def test_the_report_queue_shows_the_picture_prompt_owner_and_reason(admin_client: Client, reported: Report) -> None:
    html = admin_client.get("/admin/gallery/report/").content.decode()

    assert media_url(reported.creation.thumbnail.name) in html
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


# ---- Users: deletion and bans from the user admin -----------------------------------------


def _files(*creations: Creation) -> list[str]:
    return [name for creation in creations for name in (creation.image.name, creation.thumbnail.name)]


def test_deleting_a_user_in_the_admin_takes_their_pictures_the_remixes_drawn_on_them_and_the_files(
    admin_client: Client,
    alice: Any,
    bob: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    alices = services.creation_create(owner=alice, background=drawn_background(alice), layers=[], visibility="public")
    bobs = services.creation_create(owner=bob, background=drawn_background(bob), layers=[], visibility="public")
    remix_by_bob = services.creation_remix(owner=bob, source=alices)  # on alice's background: goes
    remix_by_alice = services.creation_remix(owner=alice, source=bobs)  # alice's own: goes
    gone = [*_files(alices, remix_by_bob, remix_by_alice), alices.background.image.name]
    url = f"/admin/accounts/user/{alice.pk}/delete/"

    confirmation = admin_client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"post": "yes"})

    assert remix_by_bob.id in confirmation  # the admin is told what goes with the account
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not User.objects.filter(username="alice").exists()
    assert list(Creation.objects.all()) == [bobs]
    assert [name for name in gone if default_storage.exists(name)] == []
    assert all(default_storage.exists(name) for name in [*_files(bobs), bobs.background.image.name])


def test_staff_ban_any_user_from_the_user_admin_which_cancels_their_jobs_and_logs_it(
    admin_client: Client, admin_user: User, alice: Any, django_capture_on_commit_callbacks: Any
) -> None:
    queued = queue_job(alice)
    running = queue_job(alice)
    GenerationJob.objects.filter(id=running.id).update(status=JobStatus.RUNNING, worker="elsewhere")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/accounts/user/", {"action": "ban_users", "_selected_action": [alice.pk]}, follow=True
        )

    assert "1 user banned." in response.content.decode()
    alice.refresh_from_db()
    assert alice.is_active is False
    assert GenerationJob.objects.get(id=queued.id).status == JobStatus.CANCELLED
    assert GenerationJob.objects.get(id=running.id).cancel_requested is True  # its worker drops it
    log = ModerationLog.objects.get()
    assert (log.actor, log.action, log.target_user) == (admin_user, "ban", alice)
    assert log.note == "From the user admin. Cancelled 2 unfinished job(s); closed open websockets."

    admin_client.post("/admin/accounts/user/", {"action": "unban_users", "_selected_action": [alice.pk]})

    alice.refresh_from_db()
    assert alice.is_active is True
    assert ModerationLog.objects.filter(action="unban", target_user=alice).count() == 1


def test_a_moderator_bans_neither_themself_nor_other_staff(alice: Any, db: None) -> None:
    moderator = User.objects.create_user("mod", "mod@example.com", "correct horse battery", is_staff=True)
    other_staff = User.objects.create_user("mod2", "mod2@example.com", "correct horse battery", is_staff=True)
    moderator.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
    client = Client()
    client.force_login(moderator)

    response = client.post(
        "/admin/accounts/user/",
        {"action": "ban_users", "_selected_action": [moderator.pk, other_staff.pk, alice.pk]},
        follow=True,
    )

    page = response.content.decode()
    assert "You cannot ban or unban yourself." in page and "Only a superuser can ban a staff account" in page
    assert dict(User.objects.values_list("username", "is_active")) == {"alice": False, "mod": True, "mod2": True}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_ban_from_the_user_admin_closes_the_users_open_websockets(alice: Any, admin_user: User) -> None:
    from asgiref.sync import sync_to_async

    from tests.generation.test_consumers import connect

    socket, connected = await connect(alice)
    assert connected
    admin = Client()
    await sync_to_async(admin.force_login)(admin_user)

    await sync_to_async(admin.post)("/admin/accounts/user/", {"action": "ban_users", "_selected_action": [alice.pk]})

    assert await socket.receive_output(timeout=5) == {"type": "websocket.close", "code": 4403}


def test_the_creation_admin_shows_lineage_read_only_and_no_private_thumbnail(
    admin_client: Client, alice: Any, bob: Any
) -> None:
    source = services.creation_create(owner=alice, background=drawn_background(alice), layers=[], visibility="public")
    remix = services.creation_remix(owner=bob, source=source)  # private

    page = admin_client.get(f"/admin/gallery/creation/{remix.id}/change/").content.decode()
    listing = admin_client.get("/admin/gallery/creation/").content.decode()

    assert 'name="ancestors"' not in page and 'name="hidden_with"' not in page and 'name="background"' not in page
    assert media_url(source.thumbnail.name) in listing
    assert media_url(remix.thumbnail.name) not in listing  # staff do not browse private pictures
