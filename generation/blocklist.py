"""The prompt blocklist: admin-edited phrases refused at submit time, before any GPU work.

Matching ignores case, spacing, punctuation and accents ("S.p-a m" matches "spam"), in any
script, and sees through lookalike letters and leetspeak ("gore" with a Latin script g U+0261
or a Cyrillic o U+043E, "g0re"): prompt and phrase are both folded to the same skeleton by
:mod:`wee_waa.confusables`, the folding usernames use too.
"""

from __future__ import annotations

from generation.models import BlockedPhrase
from wee_waa.confusables import squeeze


def normalize(text: str) -> str:
    return squeeze(text)


def blocked_phrase_in(prompt: str) -> str | None:
    """The first active phrase the prompt contains, or None."""
    squeezed = normalize(prompt)
    if not squeezed:
        return None
    for phrase in BlockedPhrase.objects.filter(is_active=True).values_list("phrase", flat=True):
        needle = normalize(phrase)
        if needle and needle in squeezed:
            return phrase
    return None
