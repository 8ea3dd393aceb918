"""Staff train a style in admin and watch it live: the run's page fills its progress bar and
loss plot while the in-process worker trains between drawings, then links the new style."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.live_server import Server

pytestmark = pytest.mark.browser


def pictures(folder: Path, count: int = 10) -> list[str]:
    paths = []
    for index in range(count):
        path = folder / f"sunny-{index}.png"
        Image.new("RGB", (64, 64), (230, 200, 120 + index)).save(path)
        paths.append(str(path))
    return paths


def test_staff_train_a_style_and_watch_its_loss_until_the_new_style_is_ready(
    page: Any, app_server: Server, tmp_path: Path
) -> None:
    name, password = f"trainer{secrets.token_hex(3)}", "a trainer's long secret"
    app_server.manage(
        "shell",
        "-c",
        f"from accounts.models import User; User.objects.create_superuser({name!r}, 't@example.com', {password!r})",
    )
    page.goto(f"{app_server.url}/admin/login/")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.locator("input[type=submit], button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/admin/$"))

    page.goto(f"{app_server.url}/admin/generation/styletraining/add/")
    page.fill("input[name=name]", f"Sunny {secrets.token_hex(2)}")
    page.fill("input[name=trigger_word]", "wee")
    page.set_input_files("input[name=images]", pictures(tmp_path))
    page.fill("input[name=steps]", "12")
    page.fill("input[name=resolution]", "64")
    page.locator("input[type=submit], button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/admin/generation/styletraining/[^/]+/change/$"))

    # The worker is idle, so it trains now; the page follows it without a reload.
    page.wait_for_function(
        "document.querySelector('#training-line').getAttribute('points').trim().split(' ').length >= 2",
        timeout=120_000,
    )
    page.locator("#training-result").wait_for(state="visible", timeout=120_000)
    assert float(page.locator("#training-progress").get_attribute("value") or 0) == pytest.approx(1.0)
    assert "12" in page.locator("#training-step").inner_text()

    page.locator("#training-result-link").click()
    page.wait_for_url(re.compile(r".*/admin/generation/style/[^/]+/change/$"))
    assert not page.locator("input[name=is_active]").is_checked()  # made disabled, to be looked at first
