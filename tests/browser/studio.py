"""What a person does in the studio, as steps the browser tests share."""

from __future__ import annotations

import re
import secrets
from typing import Any

# Waits for the model end on the page's own change (a card's status, a picture); this bound only
# stops a broken run. It is wide because the tiny model's speed depends on what else the
# machine is doing, which a test cannot know.
JOB_TIMEOUT_MS = 180_000


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
