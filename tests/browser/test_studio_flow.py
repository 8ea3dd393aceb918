"""Sign up, generate, watch the bar move, keep a candidate, see it in the gallery — in Chromium."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

pytestmark = pytest.mark.browser

# Records every value the progress bars take, so the test can tell "moved" from "jumped".
WATCH_PROGRESS = """
window.__progress = [];
new MutationObserver((records) => {
  for (const record of records) {
    const bar = record.target.closest ? record.target.closest('[role=progressbar]') : null;
    if (bar) window.__progress.push(Number(bar.getAttribute('aria-valuenow')));
  }
}).observe(document.body, {subtree: true, attributes: true, attributeFilter: ['aria-valuenow']});
"""


def sign_up(page: Any, base: str) -> str:
    username = f"user{secrets.token_hex(4)}"
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password1]", "a long enough secret")
    page.fill("input[name=password2]", "a long enough secret")
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/studio/$"))
    return username


def generate(page: Any, prompt: str, *, count: int, size: int, steps: int) -> None:
    page.fill("#prompt", prompt)
    page.select_option("#count", str(count))
    page.locator("#advanced").evaluate("(d) => d.open = true")
    page.select_option("#size", str(size))
    page.fill("#steps", str(steps))
    page.click("#generate")


def test_a_new_user_generates_keeps_and_finds_it_in_the_gallery(page: Any, live_server_url: str) -> None:
    sign_up(page, live_server_url)
    page.wait_for_function("document.querySelector('#jobs') !== null")
    page.evaluate(WATCH_PROGRESS)

    generate(page, "Springfield at sunset, snowy street", count=2, size=256, steps=30)

    card = page.locator(".job-card").first
    card.locator("img.candidate").nth(1).wait_for()
    assert card.get_attribute("data-status") == "succeeded"
    seen = page.evaluate("window.__progress")
    assert any(0 < value < 100 for value in seen), seen  # it moved, not just jumped to the end
    assert seen[-1] == 100
    assert seen == sorted(seen)

    card.locator("button.keep").first.click()
    page.wait_for_function("document.querySelector('button.keep').disabled === true")

    page.goto(f"{live_server_url}/gallery/")
    image = page.locator("img[alt*='Springfield at sunset']")
    assert image.count() == 1
    assert image.evaluate("(img) => img.complete && img.naturalWidth") == 256


def test_reloading_mid_job_shows_the_true_state_and_keeps_following(page: Any, live_server_url: str) -> None:
    sign_up(page, live_server_url)
    generate(page, "a long slow harbour scene", count=2, size=512, steps=50)
    page.wait_for_selector(".job-card[data-status=running]")
    page.wait_for_function(
        "Number(document.querySelector('.job-card [role=progressbar]').getAttribute('aria-valuenow')) > 0"
    )

    page.reload()

    card = page.locator(".job-card").first
    status = card.get_attribute("data-status", timeout=10_000)
    assert status in ("running", "succeeded")
    card.locator("img.candidate").nth(1).wait_for(timeout=120_000)
    assert card.get_attribute("data-status") == "succeeded"
    assert card.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
