"""Blocked phrases are refused at submit time, whatever their case, spacing or punctuation."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from generation.models import BlockedPhrase, GenerationJob

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "prompt", ["a GRUMPY-Wizard at dawn", "grumpy  wizard", "g.r.u.m.p.y wiz ard!", "GRUMPYWIZARD"]
)
def test_a_prompt_with_a_blocked_phrase_is_refused_before_anything_is_queued(
    alice_api: APIClient, alice: Any, prompt: str
) -> None:
    BlockedPhrase.objects.create(phrase="Grumpy wizard")

    response = alice_api.post("/api/v1/jobs/", {"prompt": prompt}, format="json")

    assert response.status_code == 400
    assert "does not allow" in response.json()["prompt"][0]
    assert not GenerationJob.objects.exists()


def test_inactive_phrases_and_innocent_prompts_pass(alice_api: APIClient) -> None:
    BlockedPhrase.objects.create(phrase="grumpy wizard", is_active=False)
    BlockedPhrase.objects.create(phrase="dragon")

    response = alice_api.post("/api/v1/jobs/", {"prompt": "a grumpy wizard and a dog", "width": 64}, format="json")

    assert response.status_code == 201


def test_phrases_match_in_korean_too(alice_api: APIClient) -> None:
    BlockedPhrase.objects.create(phrase="나쁜 말")

    response = alice_api.post("/api/v1/jobs/", {"prompt": "눈 오는 거리, 나쁜말"}, format="json")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "prompt",
    [
        "a \u0261ore scene",  # Latin small letter script g
        "a g\u043ere scene",  # Cyrillic o
        "a G\u039fRE scene",  # Greek capital omicron
        "a g0re scene",
        "a 9 0 r 3 scene",
        "a g\u00f3r\u00e9 scene",  # accents
        "a \uff47\uff4f\uff52\uff45 scene",  # full-width letters (NFKC)
    ],
    ids=["ipa-script-g", "cyrillic-o", "greek-omicron", "digit-zero", "leetspeak", "accents", "full-width"],
)
def test_lookalike_letters_and_leetspeak_do_not_slip_past_the_blocklist(alice_api: APIClient, prompt: str) -> None:
    BlockedPhrase.objects.create(phrase="gore")

    response = alice_api.post("/api/v1/jobs/", {"prompt": prompt}, format="json")

    assert response.status_code == 400
    assert not GenerationJob.objects.exists()


def test_a_phrase_written_with_digits_blocks_its_spelled_out_form() -> None:
    from generation.blocklist import blocked_phrase_in

    BlockedPhrase.objects.create(phrase="sp4m")

    assert blocked_phrase_in("lots of SPAM today") == "sp4m"
    assert blocked_phrase_in("lots of eggs today") is None
