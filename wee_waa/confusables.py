# ruff: noqa: RUF001, RUF002 - this module is about lookalike letters: they are the data
"""One folding of text for "does this look like that?": the prompt blocklist and usernames.

NFKC alone leaves lookalikes apart: ``ɡore`` (U+0261 Latin small script g), ``gоre`` (Cyrillic
о), ``g0re`` (a digit for a letter) all passed a blocklist entry ``gore``, and Cyrillic
``аdmin`` could sign up next to ``admin``. :func:`fold` maps each of them to one skeleton:
compatibility forms and case folded, accents dropped, Cyrillic/Greek/IPA lookalikes and
common leetspeak digits and symbols turned into the Latin letter they imitate. Letters that
are hard to tell apart (``l``, ``I``, ``1``, ``|``) share one skeleton letter.

The map is deliberately small and hand-checked (in the spirit of Unicode's UTS #39
confusables, not all 6,000 of its entries): it must never fold two words a reader tells
apart at a glance. Hangul and other scripts pass through untouched (NFC keeps syllables whole).
"""

from __future__ import annotations

import unicodedata

# Lowercase after casefold(), so one entry covers both cases.
_LOOKALIKES = {
    # Cyrillic
    "а": "a", "в": "b", "с": "c", "ԁ": "d", "е": "e", "ё": "e", "һ": "h", "н": "h", "і": "i",
    "ї": "i", "ӏ": "i", "ј": "j", "к": "k", "м": "m", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s",
    "т": "t", "у": "y", "ү": "y", "х": "x", "ԝ": "w", "ѡ": "w", "ɜ": "e", "з": "3", "ь": "b",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ϲ": "c", "ϳ": "j",
    # Latin letters from IPA and elsewhere that NFKC keeps apart
    "ɡ": "g", "ɑ": "a", "ı": "i", "ȷ": "j", "ɩ": "i", "ʟ": "l", "ɪ": "i", "ɴ": "n", "ʀ": "r",
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ᴊ": "j", "ᴋ": "k",
    "ᴍ": "m", "ᴏ": "o", "ᴘ": "p", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y",
    "ᴢ": "z", "ø": "o", "đ": "d", "ħ": "h", "ł": "l", "ŧ": "t", "ƀ": "b", "ɨ": "i",
    # Digits and symbols written for letters (leetspeak)
    "0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "l", "|": "l", "€": "e", "£": "l",
    # Letters readers confuse with each other: one skeleton letter for l / I / i-without-dot
    "i": "l",
}  # fmt: skip
_TABLE = str.maketrans(_LOOKALIKES)


def fold(text: str) -> str:
    """The skeleton of ``text``: equal skeletons look alike. Punctuation and spaces stay;
    callers that ignore them (the blocklist) drop them afterwards."""
    compatible = unicodedata.normalize("NFKC", text).casefold()
    # Drop accents and other combining marks (ǵöŕé → gore) but keep Hangul syllables whole.
    bare = "".join(char for char in unicodedata.normalize("NFKD", compatible) if not unicodedata.combining(char))
    # The map can produce a character (з → 3) that maps again; twice reaches the fixed point.
    return unicodedata.normalize("NFC", bare.translate(_TABLE).translate(_TABLE))


def squeeze(text: str) -> str:
    """The skeleton with only letters and digits: "S.p-4 m" and "spam" both give "spam"."""
    return "".join(char for char in fold(text) if char.isalnum())
