"""The prompt blocklist: admin-edited phrases refused at submit time, before any GPU work.

Matching ignores case, spacing and punctuation ("S.p-a m" matches "spam"), in any script:
letters and digits are kept, everything else is dropped before comparing.
"""

from __future__ import annotations

import unicodedata

from generation.models import BlockedPhrase


def normalize(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if char.isalnum())


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
