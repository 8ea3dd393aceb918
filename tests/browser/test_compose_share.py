"""Compose a picture from a kept background, save it, share it unlisted, open the link logged out."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.studio import JOB_TIMEOUT_MS, generate, sign_up

pytestmark = pytest.mark.browser


def keep_a_background(page: Any) -> None:
    generate(page, "a quiet meadow for friends", count=1, size=256, steps=4)
    card = page.locator(".job-card").first
    card.locator("img.candidate").first.wait_for(timeout=JOB_TIMEOUT_MS)
    card.locator("button.keep").first.click()
    # The button turns "kept" when the server has said yes (it is disabled already while asking).
    card.locator("button.keep.is-kept").wait_for()
    assert card.locator("button.keep").first.is_disabled()


def box_of(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def test_a_user_composes_shares_unlisted_and_a_stranger_opens_the_link(
    page: Any, browser: Any, live_server_url: str
) -> None:
    sign_up(page, live_server_url)
    keep_a_background(page)

    page.goto(f"{live_server_url}/gallery/")
    page.locator("#gallery a[href*='/compose/']").first.click()
    page.wait_for_url(re.compile(r".*/compose/[^/]+/$"))
    choices = page.locator(".character-choice[data-character-id]")
    choices.nth(1).wait_for()
    choices.nth(0).click()
    choices.nth(1).click()

    layers = page.locator("#composer img.layer")
    assert layers.count() == 2
    page.wait_for_function("[...document.querySelectorAll('img.layer')].every((img) => img.naturalWidth > 0)")
    top = layers.nth(1)  # the last one added is in front, and selected
    before = box_of(top)
    start_x, start_y = before["x"] + before["width"] / 2, before["y"] + before["height"] / 2
    page.mouse.move(start_x, start_y)
    page.mouse.down()
    page.mouse.move(start_x + 40, start_y + 30, steps=5)
    page.mouse.move(start_x + 80, start_y + 50, steps=5)
    page.mouse.up()
    after = box_of(top)
    assert after["x"] == pytest.approx(before["x"] + 80, abs=2)
    assert after["y"] == pytest.approx(before["y"] + 50, abs=2)

    page.click("#flip")
    assert top.get_attribute("data-flip") == "true"
    page.fill("#title", "Friends in the meadow")
    page.click("#save")
    page.wait_for_url(re.compile(r".*/c/[^/]+/$"), timeout=60_000)
    creation_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    page.select_option("#visibility", "unlisted")
    page.wait_for_function("document.querySelector('#visibility-status').textContent.trim() !== ''")
    page.wait_for_function("document.querySelector('#share-url').value.includes('/s/')")
    share_url = page.input_value("#share-url")

    saved = page.request.get(f"{live_server_url}/api/v1/creations/{creation_id}/").json()
    assert saved["visibility"] == "unlisted"
    assert saved["title"] == "Friends in the meadow"
    assert len(saved["layers"]) == 2
    assert [layer["flip"] for layer in saved["layers"]].count(True) == 1
    moved = max(saved["layers"], key=lambda layer: layer["z"])
    assert moved["flip"] is True
    assert moved["x"] > 0.5 and moved["y"] > 0.5  # dragged right and down from the centre

    stranger = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
    try:
        shared = stranger.new_page()
        shared.goto(share_url)
        image = shared.locator("img.creation-image")
        image.wait_for()
        shared.wait_for_function("document.querySelector('img.creation-image').naturalWidth > 0")
        assert image.evaluate("(img) => img.naturalWidth") == 256
        og_image = shared.locator("meta[property='og:image']").get_attribute("content")
        assert og_image.startswith("http") and f"{saved['image']}?t=" in og_image  # the link's token opens it
        assert shared.request.get(og_image).status == 200
        assert shared.locator("#share-url").count() == 0  # no owner controls for strangers
    finally:
        stranger.close()

    # Remix opens the editor on a copy: same background, same two characters, now a new creation.
    page.click("#remix")
    page.wait_for_url(re.compile(r".*/c/[^/]+/edit/$"))
    page.locator("img.layer").nth(1).wait_for()
    assert page.locator("img.layer").count() == 2
    remix_id = page.url.rstrip("/").split("/")[-2]
    assert remix_id != creation_id
    remix = page.request.get(f"{live_server_url}/api/v1/creations/{remix_id}/").json()
    assert remix["provenance"]["remix_of"] == creation_id
