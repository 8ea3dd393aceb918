"""``{{ creation.image|media_url }}`` (or ``|media_url:token`` on a shared page): templates
write file URLs with the same helper as the API, so every one goes through the media view."""

from __future__ import annotations

from typing import Any

from django import template

from gallery.media import media_url as _media_url

register = template.Library()


@register.filter
def media_url(field: Any, token: str | None = None) -> str:
    name = getattr(field, "name", field) or ""
    return _media_url(str(name), token=token or None)
