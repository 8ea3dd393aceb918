"""Every page carries a Content-Security-Policy, and no template needs an exception to it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

TEMPLATES = Path(settings.BASE_DIR) / "templates"

# <script> without src, other than a JSON data block (json_script and friends).
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=\"application/json\")[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_BLOCK = re.compile(r"<style\b", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"javascript:", re.IGNORECASE)


def policy(response: Any) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split(" ", 1)[1] for part in header.split("; ")}


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/accounts/signup/", "/explore/", "/studio/", "/admin/"])
def test_pages_send_a_strict_content_security_policy(url: str, alice: Any, admin_user: Any) -> None:
    client = Client()
    if url in ("/studio/", "/admin/"):
        client.force_login(admin_user if url == "/admin/" else alice)

    response = client.get(url, HTTP_HOST="localhost")

    assert response.status_code == 200
    directives = policy(response)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["img-src"] == "'self' data: blob:"
    # The live socket: this host only, not every ws: origin.
    assert directives["connect-src"] == "'self' ws://localhost"


@pytest.mark.django_db
def test_over_https_the_socket_origin_is_wss(settings: Any) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

    response = Client().get("/accounts/login/", HTTP_HOST="localhost", HTTP_X_FORWARDED_PROTO="https")

    assert policy(response)["connect-src"] == "'self' wss://localhost"


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        (INLINE_SCRIPT, "an inline <script>"),
        (EVENT_HANDLER, "an on...= event handler"),
        (STYLE_ATTRIBUTE, "a style= attribute"),
        (STYLE_BLOCK, "a <style> block"),
        (JAVASCRIPT_URL, "a javascript: URL"),
    ],
)
def test_no_template_has_inline_script_or_style(pattern: re.Pattern[str], what: str) -> None:
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {match.group()}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in pattern.finditer(path.read_text())
    ]

    assert offenders == [], f"The Content-Security-Policy would block {what}: {offenders}"


def test_the_checks_would_catch_inline_code() -> None:
    assert INLINE_SCRIPT.search("<script>alert(1)</script>")
    assert not INLINE_SCRIPT.search('<script type="application/json" id="x">{}</script>')
    assert not INLINE_SCRIPT.search('<script type="module" src="/static/js/studio.js"></script>')
    assert EVENT_HANDLER.search('<button onclick="go()">')
    assert STYLE_ATTRIBUTE.search('<div class="a" style="--ratio: 1">')
