"""The demo-model notice: staff learn how to set a real model; everybody else reads a plain
sentence, not the server's configuration."""

from __future__ import annotations

import html
import re

import pytest

from accounts.models import User
from generation import context_processors
from generation.manager.types import ModelState, ModelStatus
from tests.clients import page_client_for

PLAIN = "This studio is running a small demo model for now, so pictures come out as rough noise."


@pytest.fixture
def demo_model(monkeypatch: pytest.MonkeyPatch) -> None:
    status = ModelStatus(state=ModelState.READY, model="tiny", requested_model="tiny", device="cpu", demo=True)
    monkeypatch.setattr(context_processors, "model_status", lambda: status)


def notice_of(user: User | None, path: str = "/studio/") -> str:
    response = page_client_for(user).get(path)
    assert response.status_code == 200
    found = re.search(r'<p[^>]*id="demo-notice"[^>]*>(.*?)</p>', response.content.decode(), re.DOTALL)
    assert found is not None, "no demo notice on the page"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).split())


def test_a_normal_user_reads_a_plain_sentence_without_configuration_hints(demo_model: None, alice: User) -> None:
    text = notice_of(alice)
    assert text == PLAIN
    assert "WEE_WAA" not in text


def test_a_visitor_who_is_not_signed_in_gets_no_configuration_hints_either(demo_model: None, db: None) -> None:
    response = page_client_for(None).get("/accounts/login/")
    assert b"WEE_WAA" not in response.content


def test_staff_get_the_configuration_hint(demo_model: None, alice: User) -> None:
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    text = notice_of(alice)
    assert "WEE_WAA_MODEL" in text
    assert "restart" in text
    assert PLAIN not in text


def test_no_notice_with_a_real_model(alice: User, monkeypatch: pytest.MonkeyPatch) -> None:
    status = ModelStatus(state=ModelState.READY, model="stabilityai/sd-turbo", demo=False)
    monkeypatch.setattr(context_processors, "model_status", lambda: status)
    response = page_client_for(alice).get("/studio/")
    assert b'id="demo-notice"' not in response.content
