"""Generate, edit with a painted mask, see the chain, go back a step and keep it — in Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.studio import JOB_TIMEOUT_MS, generate, sign_up

pytestmark = pytest.mark.browser


def first_candidate_id(page: Any) -> str:
    card = page.locator(".job-card").first
    card.wait_for(timeout=10_000)
    card.locator("img.candidate").first.wait_for(timeout=JOB_TIMEOUT_MS)
    return str(card.locator(".candidate-item").first.get_attribute("data-image-id"))


def test_a_picture_is_edited_in_turns_and_an_earlier_step_kept(page: Any, live_server_url: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, live_server_url)
    page.wait_for_function("document.querySelector('#jobs') !== null")
    assert errors == []
    generate(page, "a green meadow", count=1, size=256, steps=2)
    drawn = first_candidate_id(page)

    page.locator(".job-card").first.locator("a.edit-link").first.click()
    page.wait_for_url(re.compile(rf".*/studio/\?edit={drawn}$"))
    canvas = page.locator("#mask-canvas")
    canvas.wait_for()
    assert page.locator("#strength-words").text_content() == "a lot"  # the default, in words
    page.locator("#strength").fill("0.25")
    assert page.locator("#strength-words").text_content() == "a little"

    # Paint a stroke with the mouse, and a dab from the keyboard.
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.3, steps=5)
    page.mouse.up()
    canvas.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert "Only the painted region" in page.locator("#mask-status").text_content()

    with page.expect_response(lambda response: response.url.endswith("/api/v1/jobs/")) as posted:
        page.fill("#prompt", "add a moon")
        page.click("#generate")
    body = posted.value.json()
    assert posted.value.status == 201, body
    assert body["kind"] == "inpaint" and body["masked"] is True and body["source_image"] == drawn
    edited = first_candidate_id(page)
    assert edited != drawn

    page.locator(".job-card").first.locator("a.edit-link").first.click()
    page.wait_for_url(re.compile(rf".*/studio/\?edit={edited}$"))
    steps = page.locator("#picture-chain .chain-step")
    assert steps.count() == 2
    assert [steps.nth(i).get_attribute("data-image-id") for i in range(2)] == [drawn, edited]
    assert "Region changed" in steps.nth(1).text_content()

    steps.nth(0).locator("a.chain-edit").click()  # back a step
    page.wait_for_url(re.compile(rf".*/studio/\?edit={drawn}$"))
    page.locator("#edit-source").wait_for()

    page.goto(f"{live_server_url}/studio/?edit={edited}")
    keep = page.locator("#picture-chain .chain-step").nth(0).locator("button.chain-keep")
    keep.click()
    page.wait_for_function("document.querySelector('#picture-chain .chain-keep').textContent.includes('Kept')")

    page.goto(f"{live_server_url}/gallery/")
    assert page.locator("img[alt='a green meadow']").count() == 1
