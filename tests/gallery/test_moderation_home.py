"""The admin is the moderation home: it says so, and its front page counts the open reports
with a link to the queue filtered to them."""

from __future__ import annotations

import html
import re

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from accounts.models import User
from gallery import services
from gallery.models import Report
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


@pytest.fixture
def reports(alice: User, bob: User) -> list[Report]:
    """Three reports, the last one already dealt with."""
    made = []
    for reason in ("too dark", "not a background", "spam"):
        background = drawn_background(alice, kept=False)
        creation = services.creation_create(owner=alice, background=background, layers=[], visibility="public")
        made.append(services.creation_report(reporter=bob, creation=creation, reason=reason))
    Report.objects.filter(pk=made[-1].pk).update(resolved_at=timezone.now())
    return made


def staff_client(*permissions: str) -> Client:
    moderator = User.objects.create_user("mod", "mod@example.com", "correct horse battery", is_staff=True)
    moderator.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    client = Client()
    client.force_login(moderator)
    return client


def test_the_admin_is_titled_wee_waa_moderation(admin_client: Client) -> None:
    page = admin_client.get("/admin/").content.decode()

    assert "<title>Wee-Waa moderation | Wee-Waa moderation</title>" in page
    assert '<a href="/admin/">Wee-Waa moderation</a>' in page


def test_the_admin_home_counts_the_open_reports_and_links_to_them(admin_client: Client, reports: list[Report]) -> None:
    page = admin_client.get("/admin/").content.decode()

    link = re.search(r'<a href="([^"]*)" id="open-reports-link">\s*([^<]*?)\s*</a>', page)
    assert link and link.group(2) == "2 open reports"
    queue = admin_client.get(html.unescape(link.group(1))).content.decode()
    assert "too dark" in queue and "not a background" in queue
    assert "spam" not in queue  # resolved


def test_a_quiet_day_shows_no_open_reports(admin_client: Client) -> None:
    page = admin_client.get("/admin/").content.decode()

    assert re.search(r'id="open-reports-link">\s*0 open reports\s*<', page)


def test_staff_who_may_not_see_reports_get_the_admin_without_the_count(reports: list[Report]) -> None:
    response = staff_client("view_creation").get("/admin/")

    assert response.status_code == 200
    assert "open-reports" not in response.content.decode()


def test_staff_who_may_see_reports_get_the_count(reports: list[Report]) -> None:
    page = staff_client("view_report").get("/admin/").content.decode()

    assert 'id="open-reports-link"' in page


def test_the_moderation_home_still_asks_visitors_to_log_in(db: None) -> None:
    response = Client().get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
