"""Sign up, generate, watch the bar move, keep a candidate, see it in the gallery — in Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.studio import JOB_TIMEOUT_MS, generate, sign_up

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


def test_a_new_user_generates_keeps_and_finds_it_in_the_gallery(page: Any, live_server_url: str) -> None:
    sign_up(page, live_server_url)
    page.wait_for_function("document.querySelector('#jobs') !== null")
    page.evaluate(WATCH_PROGRESS)

    # The smallest size the studio offers; four steps are enough for the bar to stop between.
    generate(page, "Springfield at sunset, snowy street", count=2, size=256, steps=4)

    card = page.locator(".job-card").first
    card.locator("img.candidate").nth(1).wait_for(timeout=JOB_TIMEOUT_MS)
    assert card.get_attribute("data-status") == "succeeded"
    seen = page.evaluate("window.__progress")
    assert any(0 < value < 100 for value in seen), seen  # it moved, not just jumped to the end
    assert seen[-1] == 100
    assert seen == sorted(seen)

    card.locator("button.keep").first.click()
    # The button turns "kept" when the server has said yes (it is disabled already while asking).
    card.locator("button.keep.is-kept").wait_for()
    assert card.locator("button.keep").first.is_disabled()

    page.goto(f"{live_server_url}/gallery/")
    image = page.locator("img[alt*='Springfield at sunset']")
    assert image.count() == 1
    # The page's load event does not wait for a lazy image: wait for this one to arrive.
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.evaluate("(img) => img.complete && img.naturalWidth") == 256


def test_reloading_mid_job_shows_the_true_state_and_keeps_following(page: Any, live_server_url: str) -> None:
    sign_up(page, live_server_url)
    # Long enough to reload while it runs, on a quick machine too; small enough for a busy one.
    generate(page, "a long slow harbour scene", count=2, size=256, steps=30)
    page.wait_for_selector(".job-card[data-status=running]")
    page.wait_for_function(
        "Number(document.querySelector('.job-card [role=progressbar]').getAttribute('aria-valuenow')) > 0"
    )

    page.reload()

    card = page.locator(".job-card").first
    status = card.get_attribute("data-status", timeout=10_000)
    assert status in ("running", "succeeded")
    card.locator("img.candidate").nth(1).wait_for(timeout=JOB_TIMEOUT_MS)
    assert card.get_attribute("data-status") == "succeeded"
    assert card.locator("[role=progressbar]").get_attribute("aria-valuenow") == "100"
