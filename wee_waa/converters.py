"""URL converters that accept only what our identifiers can look like.

A path segment that cannot be an id (a NUL byte, a slash-free oddity, 5,000 characters) is a
404 at the router, before any view or database sees it: PostgreSQL refuses NUL in text, and
a view should never have to think about it.
"""

from __future__ import annotations

from django.urls import register_converter


class _Converter:
    regex = ""

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return str(value)


class PublicIdConverter(_Converter):
    """Random public ids (``wee_waa.ids``): URL-safe base64, at most 64 characters."""

    regex = r"[A-Za-z0-9_-]{1,64}"


class UsernameConverter(_Converter):
    """Django usernames: letters, digits and ``@ . + - _``; no control characters."""

    regex = r"[\w.@+-]{1,150}"


def register() -> None:
    register_converter(PublicIdConverter, "pid")
    register_converter(UsernameConverter, "username")


register()
