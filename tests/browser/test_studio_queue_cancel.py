"""The studio's place in line, live preview and Cancel button, in Chromium.

The first tests feed the page fake jobs (API routes) and fake websocket messages, so they pin
the page's side of the wire contract exactly; the last ones run real jobs on the real server.
"""

from __future__ import annotations

import base64
import io
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from PIL import Image

from tests.browser.studio import JOB_TIMEOUT_MS, generate, sign_up

pytestmark = pytest.mark.browser

# Keeps every websocket the page opens, and lets a test deliver a message as if the server sent it.
CAPTURE_SOCKETS = """
window.__sockets = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) { super(...args); window.__sockets.push(this); }
};
window.__send = (message) => {
  const socket = window.__sockets[window.__sockets.length - 1];
  socket.dispatchEvent(new MessageEvent("message", { data: JSON.stringify(message) }));
};
"""


def fake_job(job_id: str, status: str = "queued", **fields: Any) -> dict[str, Any]:
    job = {
        "id": job_id,
        "status": status,
        "progress": 0.0,
        "error": "",
        "prompt": f"prompt of {job_id}",
        "style": None,
        "style_name": None,
        "seed": 7,
        "count": 1,
        "width": 256,
        "height": 256,
        "steps": 30,
        "model": "tiny",
        "created_at": datetime.now(UTC).isoformat(),
        "started_at": None,
        "finished_at": None,
        "images": [],
        "position": None,
        "eta_seconds": None,
        "cancel_requested": False,
    }
    job.update(fields)
    return job


def preview_image(size: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (size, size), (90, 170, 80)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


class FakeServer:
    """Answers the page's API calls for fake-* jobs; records the cancel requests it got."""

    def __init__(self, page: Any) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.cancel_replies: dict[str, tuple[int, dict[str, Any]]] = {}
        self.cancelled: list[str] = []
        page.route(re.compile(r".*/api/v1/jobs/fake-[^/]+/(cancel/)?$"), self.answer)

    def answer(self, route: Any, request: Any) -> None:
        match = re.search(r"/api/v1/jobs/(fake-[^/]+)/(cancel/)?$", request.url)
        assert match
        job_id, cancel = match.groups()
        if cancel:
            assert request.method == "POST"
            assert request.headers.get("x-csrftoken")
            self.cancelled.append(job_id)
            status, body = self.cancel_replies[job_id]
            route.fulfill(status=status, content_type="application/json", body=json.dumps(body))
        else:
            route.fulfill(status=200, content_type="application/json", body=json.dumps(self.jobs[job_id]))


@pytest.fixture
def studio(page: Any, live_server_url: str) -> Any:
    page.context.add_init_script(CAPTURE_SOCKETS)
    sign_up(page, live_server_url)
    page.wait_for_function("window.__sockets.some((socket) => socket.readyState === 1)")
    return page


def show_fake(page: Any, fake: FakeServer, job: dict[str, Any]) -> Any:
    """A message about an unknown job makes the page fetch it, as for a job from another tab."""
    fake.jobs[job["id"]] = job
    send(page, {"type": "job.progress", "job_id": job["id"], "step": 0, "total": 30, "progress": 0})
    card = page.locator(f".job-card[data-job-id='{job['id']}']")
    card.wait_for()
    return card


def send(page: Any, message: dict[str, Any]) -> None:
    page.evaluate("(message) => window.__send(message)", message)


def test_a_queued_card_shows_its_place_in_line_and_counts_down(studio: Any) -> None:
    fake = FakeServer(studio)
    card = show_fake(studio, fake, fake_job("fake-q", position=3, eta_seconds=12))
    line = card.locator(".queue-position")

    assert re.fullmatch(r"3rd in line · about 1[12] s", line.text_content() or ""), line.text_content()
    assert card.locator("button.cancel").is_enabled()

    send(studio, {"type": "job.queue", "jobs": [{"job_id": "fake-q", "position": 1, "eta_seconds": 1.2}]})
    assert re.fullmatch(r"Next in line · about [12] s", line.text_content() or "")
    studio.wait_for_function(
        "document.querySelector('[data-job-id=fake-q] .queue-position').textContent.endsWith('any moment now')"
    )

    send(studio, {"type": "job.queue", "jobs": [{"job_id": "fake-q", "position": 2, "eta_seconds": None}]})
    assert line.text_content() == "2nd in line · Estimating…"

    send(studio, {"type": "job.progress", "job_id": "fake-q", "step": 1, "total": 30, "progress": 1 / 30})
    assert card.get_attribute("data-status") == "running"
    assert line.is_hidden()


def test_a_running_card_shows_the_live_preview_until_the_images_arrive(studio: Any) -> None:
    fake = FakeServer(studio)
    card = show_fake(studio, fake, fake_job("fake-p", "running", progress=0.1))

    tiny = {"type": "job.preview", "job_id": "fake-p", "step": 3, "total": 30, "width": 32, "height": 32}
    send(studio, {**tiny, "image": preview_image(32)})
    preview = card.locator("img.preview")
    preview.wait_for()
    assert preview.get_attribute("alt") == "Preview at step 3"
    assert preview.evaluate("(img) => getComputedStyle(img).imageRendering") == "pixelated"

    send(studio, {**tiny, "step": 6, "width": 128, "height": 128, "image": preview_image(128)})
    studio.wait_for_function("document.querySelector('img.preview').alt === 'Preview at step 6'")
    assert preview.evaluate("(img) => getComputedStyle(img).imageRendering") != "pixelated"

    send(studio, {"type": "job.preview", "job_id": "fake-p", "step": 7, "image": "https://example.com/x.png"})
    assert preview.get_attribute("alt") == "Preview at step 6"  # only data: images are shown

    image = {"id": "img-1", "url": preview_image(64), "seed": 7, "kept": False}
    send(studio, {"type": "job.finished", "job_id": "fake-p", "status": "succeeded", "error": "", "images": [image]})
    card.locator("img.candidate").wait_for()
    assert card.locator("img.preview").count() == 0


def test_cancel_waits_for_the_server_and_a_cancelled_card_is_not_an_error(studio: Any) -> None:
    fake = FakeServer(studio)
    job = fake_job("fake-c", "running", progress=0.2)
    card = show_fake(studio, fake, job)
    fake.cancel_replies["fake-c"] = (200, {**job, "cancel_requested": True})
    button = card.locator("button.cancel")

    assert button.get_attribute("type") == "button"
    button.click()

    studio.wait_for_function("document.querySelector('[data-job-id=fake-c] button.cancel').disabled")
    assert button.text_content() == "Cancelling…"
    assert fake.cancelled == ["fake-c"]
    time.sleep(0.3)
    assert button.is_disabled() and card.get_attribute("data-status") == "running"

    send(studio, {"type": "job.finished", "job_id": "fake-c", "status": "cancelled", "error": "", "images": []})
    assert card.get_attribute("data-status") == "cancelled"
    assert card.locator(".job-status").text_content() == "Cancelled"
    assert card.locator(".job-error").is_hidden()
    assert button.is_hidden()
    red = card.locator(".job-status").evaluate("(node) => getComputedStyle(node).color")
    assert red != "rgb(168, 32, 26)"  # --danger


def test_cancelling_a_queued_job_is_immediate(studio: Any) -> None:
    fake = FakeServer(studio)
    job = fake_job("fake-q2", position=2, eta_seconds=8)
    card = show_fake(studio, fake, job)
    fake.cancel_replies["fake-q2"] = (200, {**job, "status": "cancelled", "position": None, "eta_seconds": None})

    card.locator("button.cancel").click()

    studio.wait_for_selector("[data-job-id=fake-q2][data-status=cancelled]")
    assert card.locator(".queue-position").is_hidden()
    assert card.locator("button.cancel").is_hidden()


def test_a_refused_cancel_shows_the_servers_reason_in_the_card(studio: Any) -> None:
    fake = FakeServer(studio)
    job = fake_job("fake-r", "running", progress=0.5)
    card = show_fake(studio, fake, job)
    fake.cancel_replies["fake-r"] = (409, {"detail": "This job has already finished."})

    card.locator("button.cancel").click()

    card.locator(".cancel-error").wait_for()
    assert card.locator(".cancel-error").text_content() == "This job has already finished."
    assert card.locator("button.cancel").is_enabled()


def test_the_cancel_button_is_reached_by_tab_and_escape_does_not_cancel(studio: Any) -> None:
    fake = FakeServer(studio)
    card = show_fake(studio, fake, fake_job("fake-k", "running", progress=0.1))
    fake.cancel_replies["fake-k"] = (200, fake.jobs["fake-k"])

    card.locator(".job-prompt").click()  # focus starts inside the card, before its button
    for _ in range(5):
        studio.keyboard.press("Tab")
        if studio.evaluate("document.activeElement.classList.contains('cancel')"):
            break
    assert studio.evaluate("document.activeElement.closest('.job-card').dataset.jobId") == "fake-k"
    studio.keyboard.press("Escape")
    time.sleep(0.3)

    assert fake.cancelled == []
    assert card.locator("button.cancel").is_enabled()


def test_a_429_shows_the_servers_reason_above_the_form(studio: Any) -> None:
    detail = "You already have 10 pictures on the way. Wait for one to finish."

    def too_many(route: Any, request: Any) -> None:
        if request.method != "POST":
            route.fallback()
            return
        route.fulfill(
            status=429,
            headers={"Retry-After": "30"},
            content_type="application/json",
            body=json.dumps({"detail": detail}),
        )

    studio.route(re.compile(r".*/api/v1/jobs/$"), too_many)
    studio.fill("#prompt", "one too many")
    studio.click("#generate")

    studio.wait_for_selector("#form-error li")
    assert studio.locator("#form-error").text_content() == detail
    assert studio.locator("#generate").is_enabled()


def test_the_place_in_line_speaks_korean(browser: Any, live_server_url: str) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, extra_http_headers={"Accept-Language": "ko"}, bypass_csp=True
    )
    context.add_init_script(CAPTURE_SOCKETS)
    page = context.new_page()
    try:
        sign_up(page, live_server_url)
        page.wait_for_function("window.__sockets.some((socket) => socket.readyState === 1)")
        fake = FakeServer(page)
        card = show_fake(page, fake, fake_job("fake-ko", position=3, eta_seconds=12))
        assert re.fullmatch(r"대기 순서 3번째 · 약 1[12]초", card.locator(".queue-position").text_content() or "")
        assert card.locator("button.cancel").text_content() == "취소"
    finally:
        context.close()


# The real server: a slow job runs, shows previews, and is cancelled; one behind it waits in line.
# The slow job is long (512², 50 steps) so that it is still running when the test acts on a
# quick machine; it costs only the steps drawn before it is cancelled.


def test_a_real_job_shows_previews_and_can_be_cancelled_while_it_runs(page: Any, live_server_url: str) -> None:
    sign_up(page, live_server_url)
    generate(page, "a very slow lighthouse", count=1, size=512, steps=50)
    card = page.locator(".job-card").first
    page.wait_for_selector(".job-card[data-status=running]")
    card.locator("img.preview").wait_for(timeout=JOB_TIMEOUT_MS)

    card.locator("button.cancel").click()

    page.wait_for_selector(".job-card[data-status=cancelled]", timeout=JOB_TIMEOUT_MS)
    assert card.locator(".job-error").is_hidden()
    assert card.locator("img.candidate").count() == 0
    assert card.locator("img.preview").count() == 0


def test_a_real_job_behind_another_shows_its_place_and_leaves_the_line_when_cancelled(
    page: Any, live_server_url: str
) -> None:
    sign_up(page, live_server_url)
    generate(page, "the slow one in front", count=1, size=512, steps=50)
    page.wait_for_selector(".job-card[data-status=running]")
    generate(page, "the one behind", count=1, size=256, steps=4)  # another size: not batched with it

    behind = page.locator(".job-card", has_text="the one behind")
    behind.locator(".queue-position").wait_for()
    assert "in line" in (behind.locator(".queue-position").text_content() or "")

    behind.locator("button.cancel").click()
    page.wait_for_selector(".job-card[data-status=cancelled]")
    assert behind.get_attribute("data-status") == "cancelled"

    front = page.locator(".job-card", has_text="the slow one in front")
    if front.get_attribute("data-status") in ("queued", "running"):
        front.locator("button.cancel").click()  # free the shared server for the next test
        page.locator(".job-card[data-status=cancelled]", has_text="the slow one in front").wait_for(
            timeout=JOB_TIMEOUT_MS
        )
