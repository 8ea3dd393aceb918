"""The studio's style picker in Chromium: cards with previews and descriptions, chosen by
click or keyboard, and the drawing queued with the chosen style."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.studio import JOB_TIMEOUT_MS, generate, sign_up
from tests.live_server import Server

pytestmark = pytest.mark.browser

MAKE_STYLE = """
import io
from PIL import Image
from django.core.files.base import ContentFile
from generation.models import Style
buffer = io.BytesIO()
Image.new("RGB", (64, 64), (230, 200, 120)).save(buffer, format="PNG")
style, _ = Style.objects.get_or_create(name="Sunny picker", defaults={
    "prompt_template": "{prompt}, sunny", "description": "Warm yellow light", "default_steps": 2,
    "default_width": 64, "default_height": 64})
if not style.preview:
    style.preview.save("sunny.png", ContentFile(buffer.getvalue()))
print(style.id)
"""

LAST_JOB_STYLE = (
    "from generation.models import GenerationJob; "
    "job = GenerationJob.objects.order_by('-created_at').first(); print(job.style.name); print(job.status, job.error)"
)


def test_picking_a_style_shows_its_preview_and_description_and_generates_with_it(
    page: Any, live_server_url: str, app_server: Server
) -> None:
    style_id = app_server.manage("shell", "-c", MAKE_STYLE).strip().splitlines()[-1]
    sign_up(page, live_server_url)
    card = page.locator(f".style-card[data-style='{style_id}']")
    card.wait_for()
    assert card.locator("img").get_attribute("src")

    card.click()

    assert card.get_attribute("aria-checked") == "true"
    assert page.locator("#style").input_value() == style_id
    assert page.locator("#style-description").text_content() == "Warm yellow light"
    # The keyboard moves the choice like a radio group and back.
    card.press("ArrowRight")
    assert page.locator("#style").input_value() != style_id
    page.keyboard.press("ArrowLeft")
    assert page.locator("#style").input_value() == style_id

    with page.expect_response(
        lambda response: response.url.endswith("/api/v1/jobs/") and response.request.method == "POST"
    ) as sent:
        generate(page, "a quiet street", count=1, size=256, steps=2)
    assert sent.value.status == 201
    assert "Sunny picker" in app_server.manage("shell", "-c", LAST_JOB_STYLE).splitlines()
    page.locator(".job-card img.candidate").first.wait_for(timeout=JOB_TIMEOUT_MS)
