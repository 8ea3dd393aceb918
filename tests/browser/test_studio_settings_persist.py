"""The studio remembers the candidates count and the advanced settings across reloads (per
browser), keeps an unsent prompt as a draft (per tab), and shrugs off garbage in storage."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.browser.studio import sign_up

pytestmark = pytest.mark.browser

SETTINGS_KEY = "wee-waa:studio-settings"
CONTROLS = ("#count", "#size", "#steps", "#seed", "#style")


def form_values(page: Any) -> dict[str, str]:
    return {selector: page.input_value(selector) for selector in CONTROLS}


def advanced_is_open(page: Any) -> bool:
    return bool(page.locator("#advanced").evaluate("(details) => details.open"))


def script_is_running(page: Any) -> None:
    """The page's module ran to its end: the jobs list loaded and the counter follows typing."""
    page.locator("#jobs-loading").wait_for(state="hidden")
    page.fill("#prompt", "abc")
    assert page.text_content("#prompt-count") == "3"
    page.fill("#prompt", "")


def test_the_studio_keeps_the_count_and_advanced_settings_and_the_unsent_draft_across_a_reload(
    page: Any, live_server_url: str
) -> None:
    sign_up(page, live_server_url)
    styles = page.locator("#style option").evaluate_all("(options) => options.map((option) => option.value)")
    other_style = next(value for value in styles if value != page.input_value("#style"))
    page.select_option("#count", "3")
    page.click("#advanced summary")
    page.select_option("#size", "384")
    page.fill("#steps", "7")
    page.fill("#seed", "4242")
    page.select_option("#style", other_style)
    page.fill("#prompt", "an unsent draft about a lighthouse")
    chosen = form_values(page)
    assert chosen == {"#count": "3", "#size": "384", "#steps": "7", "#seed": "4242", "#style": other_style}

    page.reload()
    assert form_values(page) == chosen
    assert advanced_is_open(page)  # a fixed seed is never hidden behind a closed panel
    assert page.input_value("#prompt") == "an unsent draft about a lighthouse"
    assert page.text_content("#prompt-count") == str(len("an unsent draft about a lighthouse"))

    page.click("#generate")
    page.locator(".job-card").first.wait_for()
    page.reload()
    assert form_values(page) == chosen
    assert page.input_value("#prompt") == ""  # sent: no longer a draft

    # A new tab of the same browser keeps the settings; a draft stays in the tab it was typed in.
    page.fill("#prompt", "a second draft")
    other_tab = page.context.new_page()
    other_tab.goto(f"{live_server_url}/studio/")
    assert form_values(other_tab) == chosen
    assert other_tab.input_value("#prompt") == ""


def test_clearing_the_seed_and_closing_the_panel_is_remembered_too(page: Any, live_server_url: str) -> None:
    sign_up(page, live_server_url)
    page.click("#advanced summary")
    page.fill("#seed", "99")
    page.fill("#seed", "")
    page.click("#advanced summary")
    page.reload()
    assert page.input_value("#seed") == ""
    assert not advanced_is_open(page)


@pytest.mark.parametrize(
    "garbage",
    [
        "{not json",
        "null",
        "[1, 2, 3]",
        '"a string"',
        json.dumps(
            {
                "count": "99",
                "size": "abc",
                "steps": "1e9",
                "seed": "<img src=x onerror=alert(1)>",
                "style": "no-such-style",
                "advancedOpen": "yes",
            }
        ),
        json.dumps({"count": 3, "size": None, "steps": "-4", "seed": "12345678901234567890", "style": {"id": 1}}),
    ],
)
def test_garbage_in_storage_leaves_the_defaults_and_a_working_page(
    page: Any, live_server_url: str, garbage: str
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, live_server_url)
    defaults = form_values(page)
    page.evaluate("([key, value]) => localStorage.setItem(key, value)", [SETTINGS_KEY, garbage])

    page.reload()
    assert form_values(page) == defaults
    assert not advanced_is_open(page)
    script_is_running(page)
    assert errors == []


def test_a_browser_that_refuses_storage_still_gets_a_working_studio(page: Any, live_server_url: str) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_up(page, live_server_url)
    defaults = form_values(page)
    page.add_init_script(
        """for (const name of ["localStorage", "sessionStorage"]) {
             Object.defineProperty(window, name, { get() { throw new DOMException("refused", "SecurityError"); } });
           }"""
    )
    page.reload()
    page.select_option("#count", "4")  # saving quietly does nothing
    assert form_values(page)["#count"] == "4"
    page.select_option("#count", defaults["#count"])
    assert form_values(page) == defaults
    script_is_running(page)
    assert errors == []
