"""Take the README's screenshots from a running app, so they show what the code does today.

    .venv/bin/python -m docs.screenshots          # writes docs/screenshots/*.png

It starts ``manage.py serve`` with the tiny demo model on a scratch database (so the
backgrounds are the demo model's noise, as on a fresh clone), signs up in Chromium, draws, keeps,
composes and shares a picture, and photographs the studio mid-drawing, the editor and the
shared page. Needs Debian's chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import argparse
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from tests.live_server import ROOT, running_server

OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 180_000


def sign_up(page: Any, base: str) -> None:
    page.goto(f"{base}/accounts/signup/")
    page.fill("input[name=username]", f"mina{secrets.token_hex(2)}")
    page.fill("input[name=password1]", "a long enough secret")
    page.fill("input[name=password2]", "a long enough secret")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/studio/$"))


def studio_while_drawing(page: Any, out: Path) -> None:
    """Two jobs: one done (candidates to keep) and one drawing, its bar part-way and a preview."""
    page.fill("#prompt", "Springfield at sunset, snowy street")
    page.select_option("#count", "2")
    page.locator("#advanced").evaluate("(d) => d.open = true")
    page.select_option("#size", "256")
    page.fill("#steps", "4")
    page.click("#generate")
    page.locator(".job-card img.candidate").first.wait_for(timeout=WAIT_MS)
    page.fill("#prompt", "a quiet meadow with a red barn, morning light")
    page.select_option("#size", "512")
    page.fill("#steps", "40")
    page.click("#generate")
    page.wait_for_function(
        "() => { const bar = document.querySelector('.job-card [role=progressbar]');"
        " const now = Number(bar && bar.getAttribute('aria-valuenow'));"
        " return now > 30 && now < 90 && document.querySelector('.job-card .job-preview img.preview[src]'); }",
        timeout=WAIT_MS,
        polling=50,
    )
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(out / "studio.png"))


def compose_and_share(page: Any, base: str, out: Path) -> str:
    card = page.locator(".job-card").nth(1)  # the finished 256² job (the newest card is first)
    card.locator("button.keep").first.click()
    card.locator("button.keep.is-kept").wait_for()
    page.goto(f"{base}/gallery/")
    page.locator("a[href*='/compose/']").first.click()
    page.wait_for_url(re.compile(r".*/compose/[^/]+/$"))
    choices = page.locator(".character-choice[data-character-id]")
    choices.nth(2).wait_for()
    for index in (0, 1, 2):
        choices.nth(index).click()
    page.wait_for_function("[...document.querySelectorAll('img.layer')].every((img) => img.naturalWidth > 0)")
    page.fill("#title", "Friends on a snowy street")
    page.screenshot(path=str(out / "compose.png"))
    page.click("#save")
    page.wait_for_url(re.compile(r".*/c/[^/]+/$"), timeout=60_000)
    page.select_option("#visibility", "unlisted")
    page.wait_for_function("document.querySelector('#share-url').value.includes('/s/')")
    return str(page.input_value("#share-url"))


def shared_page(browser: Any, share_url: str, out: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
    page = context.new_page()
    page.goto(share_url)
    page.wait_for_function("document.querySelector('img.creation-image')?.naturalWidth > 0")
    page.screenshot(path=str(out / "shared.png"))
    context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with (
        tempfile.TemporaryDirectory(prefix="wee-waa-shots-") as data,
        running_server("tiny", data=Path(data)) as server,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
        page = context.new_page()
        page.set_default_timeout(60_000)
        sign_up(page, server.url)
        studio_while_drawing(page, args.out)
        share_url = compose_and_share(page, server.url, args.out)
        shared_page(browser, share_url, args.out)
        browser.close()
    for name in ("studio", "compose", "shared"):
        print(f"{args.out / name}.png")


if __name__ == "__main__":
    main()
