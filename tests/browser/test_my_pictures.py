"""My pictures, as a person finds it: their name in the header leads there, the Creations tab
shows a private remix as Private, and two pictures go through "Delete selected" and its confirm
page, by keyboard. The same page in Korean, on a 360px-wide phone, neither breaks nor scrolls
sideways."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.studio import sign_up
from tests.browser.test_compose_share import keep_a_background

pytestmark = pytest.mark.browser


def post_json(page: Any, url: str, data: dict[str, Any]) -> dict[str, Any]:
    """An API call from the signed-in page, with the CSRF token the studio's scripts send."""
    token = next(cookie["value"] for cookie in page.context.cookies() if cookie["name"] == "csrftoken")
    response = page.request.post(url, data=data, headers={"X-CSRFToken": token})
    assert response.ok, response.text()
    return dict(response.json())


def test_a_user_finds_their_private_remix_in_my_pictures_and_deletes_two_pictures(
    page: Any, browser: Any, live_server_url: str
) -> None:
    username = sign_up(page, live_server_url)
    keep_a_background(page)
    jobs = page.request.get(f"{live_server_url}/api/v1/jobs/").json()["results"]
    background_id = next(image["id"] for job in jobs for image in job["images"] if image["kept"])
    creations = f"{live_server_url}/api/v1/creations/"
    original = post_json(page, creations, {"background": background_id, "layers": [], "title": "Meadow picnic"})
    remix = post_json(page, f"{creations}{original['id']}/remix/", {})

    page.locator("#header-username", has_text=username).click()
    page.wait_for_url(re.compile(r".*/gallery/$"))
    assert page.locator("h1").inner_text() == "My pictures"
    assert page.locator(f"#gallery [data-background-id='{background_id}']").is_visible()

    page.locator("#tab-creations").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/gallery/\?show=creations$"))
    card = page.locator(f"[data-creation-id='{remix['id']}']")
    assert card.locator(".badge-private").inner_text() == "Private"
    assert card.locator(".badge-remix").inner_text() == "Remix"

    # Korean, on a phone: the same list, translated, and nothing wider than the screen.
    korean = browser.new_context(
        viewport={"width": 360, "height": 800}, locale="ko-KR", storage_state=page.context.storage_state()
    )
    try:
        phone = korean.new_page()
        phone.goto(f"{live_server_url}/gallery/?show=creations")
        assert phone.locator("html").get_attribute("lang") == "ko"
        assert phone.locator(f"[data-creation-id='{remix['id']}'] .badge-private").inner_text() == "비공개"
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        assert phone.locator("#delete-selected").is_visible()
    finally:
        korean.close()

    for creation in (original, remix):
        page.locator(f"#pick-{creation['id']}").focus()
        page.keyboard.press("Space")
    assert page.locator("#pick-count").inner_text().endswith("2")
    page.locator("#delete-selected").focus()
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r".*/gallery/delete/$"))
    assert "Delete these 2 pictures?" in page.locator("h1").inner_text()
    listed = page.locator("#confirm-creations li")
    assert sorted(listed.evaluate_all("(items) => items.map((item) => item.dataset.creationId)")) == sorted(
        [original["id"], remix["id"]]
    )
    page.locator("#confirm-delete").focus()
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r".*/gallery/\?show=creations$"))
    assert "2 pictures deleted." in page.locator(".messages").inner_text()
    assert page.locator("[data-creation-id]").count() == 0
    assert page.locator("#creations-empty").is_visible()
    assert page.request.get(f"{creations}{remix['id']}/").status == 404
