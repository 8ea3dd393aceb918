"""Public identifiers: random strings, never sequential integers.

Sequential ids leak how busy the site is and invite guessing; they also tie URLs to SQL
autoincrement, which a document database would not give us.
"""

from __future__ import annotations

import secrets

PUBLIC_ID_LENGTH = 22


def new_public_id() -> str:
    """128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)
