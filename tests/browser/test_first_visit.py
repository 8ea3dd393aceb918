"""A newcomer's first ten minutes, from the browser: the front page, the way in that keeps
where they were going, error pages that belong to the site, and the moderators' front page.
Text is checked in English and Korean."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.browser.studio import JOB_TIMEOUT_MS, generate, sign_up
from tests.live_server import Client, Server

pytestmark = pytest.mark.browser


def in_korean(browser: Any) -> Any:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="ko-KR", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


@pytest.fixture(scope="module")
def public_picture(app_server: Server) -> tuple[str, str]:
    client = Client(app_server.url)
    client.sign_up()
    title = f"Snowy street {secrets.token_hex(3)}"
    return client.publish_picture(title), title


def test_a_visitor_sees_what_the_studio_does_and_the_way_in(
    page: Any, browser: Any, live_server_url: str, public_picture: tuple[str, str]
) -> None:
    creation_id, title = public_picture
    page.goto(f"{live_server_url}/")

    assert page.url == f"{live_server_url}/"  # a front page, not a login form
    assert "cartoon background" in page.locator("h1").inner_text()
    assert "turn the link off" in page.locator("#front-share-promise").inner_text()
    notice = page.locator("#demo-notice").inner_text()  # the server runs the demo model
    assert "demo model" in notice and "WEE_WAA_MODEL" not in notice  # hints are for staff
    shown = page.locator(f"#front-showcase [data-creation-id='{creation_id}']")
    assert title in shown.inner_text()
    page.click("#front-signup")
    page.wait_for_url(re.compile(r".*/accounts/signup/"))

    korean = in_korean(browser)
    korean.goto(f"{live_server_url}/")
    assert korean.locator("html").get_attribute("lang") == "ko"
    assert "만화" in korean.locator("h1").inner_text()
    assert korean.locator("#front-signup").is_visible()
    korean.context.close()


def test_a_signed_in_user_goes_from_the_front_page_straight_to_the_studio(page: Any, live_server_url: str) -> None:
    sign_up(page, live_server_url)
    page.goto(f"{live_server_url}/")
    page.wait_for_url(re.compile(r".*/studio/$"))


def test_log_in_to_like_then_sign_up_lands_back_on_the_picture(
    page: Any, live_server_url: str, public_picture: tuple[str, str]
) -> None:
    creation_id, _title = public_picture
    page.goto(f"{live_server_url}/explore/")
    page.locator(f"[data-creation-id='{creation_id}'] a.gallery-image").click()
    page.wait_for_url(re.compile(rf".*/c/{creation_id}/$"))
    page.click("#login-to-like")
    page.wait_for_url(re.compile(r".*/accounts/login/\?next="))
    page.locator("a[href*='/accounts/signup/']").last.click()
    page.fill("input[name=username]", f"liker{secrets.token_hex(4)}")
    page.fill("input[name=password1]", "a long enough secret")
    page.fill("input[name=password2]", "a long enough secret")
    page.locator("form button[type=submit]").last.click()

    page.wait_for_url(re.compile(rf".*/c/{creation_id}/$"))
    page.click("#like")
    page.locator("#like[aria-pressed='true']").wait_for()


def test_a_turned_off_share_link_gets_a_page_in_the_sites_look_in_both_languages(
    page: Any, browser: Any, live_server_url: str
) -> None:
    dead_link = f"{live_server_url}/s/{secrets.token_urlsafe(16)}/"

    response = page.goto(dead_link)
    assert response.status == 404
    assert page.locator(".site-header .brand").is_visible()
    assert "turned the link off" in page.locator("#main").inner_text()
    assert page.locator("link[rel=icon]").count() == 1
    page.locator("#main a[href='/explore/']").first.click()
    page.wait_for_url(re.compile(r".*/explore/$"))

    korean = in_korean(browser)
    assert korean.goto(dead_link).status == 404
    assert korean.locator("html").get_attribute("lang") == "ko"
    assert "링크" in korean.locator("#main").inner_text()
    korean.context.close()


def test_a_moderator_opens_the_admin_and_sees_the_open_reports(
    page: Any, app_server: Server, public_picture: tuple[str, str]
) -> None:
    creation_id, _title = public_picture
    reporter = Client(app_server.url)
    reporter.sign_up()
    reporter.api("POST", f"/api/v1/creations/{creation_id}/report/", {"reason": "Not a background at all"})
    name, password = f"mod{secrets.token_hex(3)}", "a moderator's long secret"
    app_server.manage(
        "shell",
        "-c",
        f"from accounts.models import User; User.objects.create_superuser({name!r}, 'mod@example.com', {password!r})",
    )

    page.goto(f"{app_server.url}/admin/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.locator("input[type=submit], button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/admin/$"))

    assert "Wee-Waa moderation" in page.title()
    reports = page.locator("#open-reports")
    assert re.search(r"[1-9]\d* open reports?", reports.inner_text())
    reports.locator("a").first.click()
    page.wait_for_url(re.compile(r".*/admin/gallery/report/\?resolved_at__isempty=1"))

    korean = page.context.browser.new_context(locale="ko-KR", storage_state=page.context.storage_state())
    admin_ko = korean.new_page()
    admin_ko.goto(f"{app_server.url}/admin/")
    assert "Wee-Waa 운영" in admin_ko.title()
    assert "미처리 신고" in admin_ko.locator("#open-reports").inner_text()
    korean.close()

    page.goto(f"{app_server.url}/studio/")
    assert "WEE_WAA_MODEL" in page.locator("#demo-notice").inner_text()  # staff get the hint


def test_explore_shows_which_order_is_active(page: Any, live_server_url: str) -> None:
    page.goto(f"{live_server_url}/explore/?order=liked")
    active = page.locator(".orderings a[aria-current='true']")
    assert active.count() == 1
    assert "Most liked" in active.inner_text()
    other = page.locator(".orderings a:not([aria-current])")

    def background(locator: Any) -> str:
        return str(locator.evaluate("(a) => getComputedStyle(a).backgroundColor"))

    assert background(active) != background(other.first)
    assert "✓" in active.evaluate("(a) => getComputedStyle(a, '::before').content")


LONG_HEAD = "a quiet street in a cartoon town at sunset, houses with round windows, tall chimneys, a mailbox, "


def test_the_end_of_a_long_prompt_still_changes_the_picture(page: Any, app_server: Server) -> None:
    """Two prompts that differ only after the text encoder's first 77 tokens draw different
    pictures from the same seed: nothing the user wrote is cut without a word."""
    sign_up(page, app_server.url)
    pictures = []
    page.locator("#advanced").evaluate("(d) => d.open = true")
    page.fill("#seed", "4242")  # the same seed for both: only the words differ
    for number, ending in enumerate(("thick snow on every roof", "bright green lawns in spring"), start=1):
        generate(page, LONG_HEAD + ending, count=1, size=256, steps=1)
        page.locator(".job-card").nth(number - 1).wait_for()  # the new card is on the page
        card = page.locator(".job-card").filter(has_text=ending)
        card.locator("img.candidate").first.wait_for(timeout=JOB_TIMEOUT_MS)
        src = card.locator("img.candidate").first.get_attribute("src")
        pictures.append(page.request.get(f"{app_server.url}{src}").body())

    assert pictures[0] != pictures[1]
    assert "Token indices sequence length" not in (app_server.data_dir / "server.log").read_text()
