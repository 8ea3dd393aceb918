"""The API docs page (/api/docs/) works under the real Content-Security-Policy: Swagger UI
renders every operation from our own static files, and "Try it out" sends a signed-in
browser's request with its CSRF token."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_the_docs_page_renders_the_api_and_queues_a_job_from_try_it_out(browser: Any, live_server_url: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # no bypass_csp: the real policy
    page = context.new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(f"{live_server_url}/accounts/signup/")
        page.fill("#id_username", f"docs{secrets.token_hex(3)}")
        page.fill("#id_password1", "a long enough secret")
        page.fill("#id_password2", "a long enough secret")
        page.click("#signup-submit")
        page.wait_for_url("**/studio/")

        page.goto(f"{live_server_url}/api/docs/")
        page.wait_for_selector("#operations-jobs-jobs_create")
        assert page.locator(".opblock").count() >= 15
        assert page.get_attribute("#events-schema", "href") == "/api/v1/events/schema.json"

        operation = page.locator("#operations-jobs-jobs_create")
        operation.locator(".opblock-summary").click()
        operation.locator(".try-out__btn").click()
        operation.locator(".execute").click()
        status = operation.locator(".live-responses-table .response .response-col_status")
        status.wait_for()
        assert status.inner_text().strip() == "201"  # a POST: only accepted with the CSRF token
    finally:
        context.close()

    assert problems == []


def test_the_docs_page_fits_a_phone(browser: Any, live_server_url: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{live_server_url}/api/docs/")
        page.wait_for_selector("#operations-jobs-jobs_list")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    finally:
        context.close()

    assert overflow <= 0
