"""The compose page places each new character where it can be seen, and shows long names whole.

Characters added one after another used to land on the same spot, each hiding the last; and on
a phone the tray split long names mid-word."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import combinations
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.browser.studio import sign_up
from tests.browser.test_compose_share import keep_a_background

pytestmark = pytest.mark.browser

Box = dict[str, float]


class Composer(NamedTuple):
    url: str  # the compose page of a kept background
    state: dict[str, Any]  # the signed-in browser's cookies


@pytest.fixture(scope="module")
def composer(browser: Any, live_server_url: str) -> Iterator[Composer]:
    """One signed-up user with a kept background, shared by this module's tests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        sign_up(page, live_server_url)
        keep_a_background(page)
        page.goto(f"{live_server_url}/gallery/")
        compose_url = page.locator("#gallery a[href*='/compose/']").first.get_attribute("href")
        assert compose_url
        yield Composer(f"{live_server_url}{compose_url}", context.storage_state())
    finally:
        context.close()


def open_composer(browser: Any, composer: Composer, *, width: int = 1280, height: int = 900) -> Any:
    """A new signed-in tab of the given size, not yet on the page (a test may route first)."""
    viewport = {"width": width, "height": height}
    context = browser.new_context(viewport=viewport, bypass_csp=True, storage_state=composer.state)
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


def layer_boxes(page: Any) -> list[Box]:
    """The layers' boxes as shares of the stage, read from where the page drew them."""
    return list(
        page.evaluate(
            """() => {
              const stage = document.getElementById("stage").getBoundingClientRect();
              return [...document.querySelectorAll("#stage img.layer")].map((img) => {
                const box = img.getBoundingClientRect();
                return {
                  left: (box.left - stage.left) / stage.width, top: (box.top - stage.top) / stage.height,
                  width: box.width / stage.width, height: box.height / stage.height,
                };
              });
            }"""
        )
    )


def covered_share(a: Box, b: Box) -> float:
    """How much of the smaller box the other covers: 0 apart, 1 one hidden behind the other."""
    across = min(a["left"] + a["width"], b["left"] + b["width"]) - max(a["left"], b["left"])
    down = min(a["top"] + a["height"], b["top"] + b["height"]) - max(a["top"], b["top"])
    if across <= 0 or down <= 0:
        return 0.0
    return across * down / min(a["width"] * a["height"], b["width"] * b["height"])


def centre(box: Box) -> tuple[float, float]:
    return box["left"] + box["width"] / 2, box["top"] + box["height"] / 2


def test_three_characters_added_one_after_another_land_apart_and_save(
    browser: Any, composer: Composer, live_server_url: str, tmp_path: Path
) -> None:
    page = open_composer(browser, composer)
    try:
        page.goto(composer.url)
        choices = page.locator(".character-choice[data-character-id]")
        choices.nth(1).wait_for()
        for index in (0, 1, 0):  # the same character twice, too
            choices.nth(index).click()
        assert page.locator("#stage img.layer").count() == 3

        page.locator("#stage").screenshot(path=str(tmp_path / "three.png"))
        boxes = layer_boxes(page)
        for a, b in combinations(boxes, 2):
            assert covered_share(a, b) < 0.1, boxes
        for box in boxes:  # inside the picture: all of each character can be seen
            assert box["left"] >= -0.001 and box["left"] + box["width"] <= 1.001, box
            assert box["top"] >= -0.001 and box["top"] + box["height"] <= 1.001, box

        page.click("#save")
        page.wait_for_url(re.compile(r".*/c/[^/]+/$"), timeout=60_000)
        creation_id = page.url.rstrip("/").rsplit("/", 1)[-1]
        saved = page.request.get(f"{live_server_url}/api/v1/creations/{creation_id}/").json()
        spots = {(layer["x"], layer["y"]) for layer in saved["layers"]}
        assert len(spots) == 3
        assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in spots)
    finally:
        page.context.close()


def test_a_full_picture_still_puts_each_new_character_off_the_earlier_ones_within_the_limits(
    browser: Any, composer: Composer, tmp_path: Path
) -> None:
    page = open_composer(browser, composer)
    try:
        page.goto(composer.url)
        limits = json.loads(page.locator("#composer-limits").text_content() or "{}")
        choice = page.locator(".character-choice[data-character-id]").first
        choice.wait_for()
        centres: list[tuple[float, float]] = []
        for _ in range(limits["maxLayers"]):
            choice.click()
            newest = centre(layer_boxes(page)[-1])
            # Clear of every earlier centre by a twentieth of the picture or more: never stacked.
            assert all(abs(newest[0] - x) + abs(newest[1] - y) > 0.05 for x, y in centres), (newest, centres)
            assert 0 <= newest[0] <= 1 and 0 <= newest[1] <= 1
            centres.append(newest)

        choice.click()  # one over the server's limit: refused here, with a reason
        assert page.locator("#stage img.layer").count() == limits["maxLayers"]
        assert str(limits["maxLayers"]) in (page.locator("#tray-status").text_content() or "")

        page.locator("#stage").screenshot(path=str(tmp_path / "full.png"))
        page.click("#save")  # the server takes every spot the page chose
        page.wait_for_url(re.compile(r".*/c/[^/]+/$"), timeout=60_000)
    finally:
        page.context.close()


LONG_NAMES = [
    "Sir Bartholomew Fluffington the Third of Meadowbrook Hall",
    "Grandmother Willowbrook",
    "무지개구름나라의 꼬마 요정 뭉게뭉게",
    "Supercalifragilisticexpialidociousness",
]


def test_long_character_names_wrap_between_words_on_a_phone(browser: Any, composer: Composer, tmp_path: Path) -> None:
    page = open_composer(browser, composer, width=360, height=740)
    try:

        def long_names(route: Any) -> None:
            characters = route.fetch().json()
            for character, name in zip(characters, LONG_NAMES, strict=False):
                character["name"] = name
            route.fulfill(json=characters)

        page.route(re.compile(r".*/api/v1/characters/(\?.*)?$"), long_names)
        page.goto(composer.url)
        tray = page.locator("#tray")
        page.locator(".character-choice[data-character-id]").nth(len(LONG_NAMES) - 1).wait_for()
        page.wait_for_function("[...document.querySelectorAll('#tray img')].every((img) => img.complete)")
        tray.scroll_into_view_if_needed()
        tray.screenshot(path=str(tmp_path / "tray-360.png"))

        layout = page.evaluate(
            """() => [...document.querySelectorAll("#tray .character-choice")].map((button) => {
              const name = button.querySelector(".character-name");
              const text = name.firstChild;
              const split = [];
              const words = [...text.data.matchAll(/\\S+/g)];
              for (const word of words) {
                const range = document.createRange();
                range.setStart(text, word.index);
                range.setEnd(text, word.index + word[0].length);
                const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
                if (lines.size > 1) split.push(word[0]);
              }
              const box = button.getBoundingClientRect();
              return {
                name: text.data, title: button.title, label: button.getAttribute("aria-label"), split,
                fits: name.getBoundingClientRect().right <= box.right + 0.5 && box.right <= window.innerWidth,
                wordWiderThanBox: words.some((word) => {
                  const probe = document.createElement("span");
                  probe.textContent = word[0];
                  probe.style.cssText = `position: absolute; white-space: nowrap; font: ${getComputedStyle(name).font}`;
                  document.body.append(probe);
                  const wide = probe.getBoundingClientRect().width > name.clientWidth;
                  probe.remove();
                  return wide;
                }),
              };
            })"""
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        for item in layout:
            assert item["fits"], item
            assert item["title"] == item["name"] and item["name"] in item["label"], item
            if not item["wordWiderThanBox"]:
                assert item["split"] == [], item  # no word broken across lines
        assert [item["name"] for item in layout[: len(LONG_NAMES)]] == LONG_NAMES
        # Names of ordinary words stay whole; only the one word wider than any cell may break.
        assert not any(item["wordWiderThanBox"] for item in layout[:3]), layout
    finally:
        page.context.close()
