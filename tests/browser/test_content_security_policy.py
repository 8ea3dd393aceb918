"""The pages work under the real Content-Security-Policy: the browser reports no violation."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_signing_up_and_opening_the_studio_and_explore_break_no_policy_rule(browser: Any, live_server_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # no bypass_csp: the real policy
    page = context.new_page()
    page.set_default_timeout(30_000)
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    try:
        page.goto(f"{live_server_url}/accounts/signup/")
        page.fill("#id_username", f"csp{secrets.token_hex(3)}")
        page.fill("#id_password1", "a long enough secret")
        page.fill("#id_password2", "a long enough secret")
        page.click("#signup-submit")
        page.wait_for_url("**/studio/")
        page.wait_for_selector("#jobs", state="attached")
        page.wait_for_load_state("networkidle")
        page.goto(f"{live_server_url}/explore/")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("document.querySelector('main') !== null")  # evaluate() is exempt from CSP
    finally:
        context.close()

    assert violations == []
