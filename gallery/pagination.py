"""Keyset ("cursor") pagination for the public lists: stable while new pictures arrive, and
cheap at any depth. Every ordering ends with ``id``, so equal times never tie."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from gallery.models import Creation

ORDERINGS: dict[str, tuple[str, ...]] = {
    "newest": ("created_at", "id"),
    "liked": ("like_count", "created_at", "id"),
}


@dataclass
class Page:
    items: list[Creation]
    next_cursor: str | None
    order: str
    first: bool


def _encode(values: list[Any]) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value for value in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, fields: tuple[str, ...]) -> list[Any] | None:
    """A cursor that does not parse means the first page, never an error page."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(values, list) or len(values) != len(fields):
            return None
        return [
            datetime.fromisoformat(value) if field == "created_at" else value
            for field, value in zip(fields, values, strict=True)
        ]
    except (ValueError, TypeError):
        return None


def _after(fields: tuple[str, ...], values: list[Any]) -> Q:
    """Rows strictly after ``values`` in descending (fields) order."""
    condition = Q()
    for index, field in enumerate(fields):
        step = Q(**{f"{field}__lt": values[index]})
        for earlier, value in zip(fields[:index], values[:index], strict=True):
            step &= Q(**{earlier: value})
        condition |= step
    return condition


def keyset_page(creations: QuerySet[Creation], order: str, cursor: str | None, size: int) -> Page:
    order = order if order in ORDERINGS else "newest"
    fields = ORDERINGS[order]
    values = _decode(cursor, fields) if cursor else None
    if values is not None:
        creations = creations.filter(_after(fields, values))
    rows = list(creations.order_by(*[f"-{field}" for field in fields])[: size + 1])
    items = rows[:size]
    next_cursor = _encode([getattr(items[-1], field) for field in fields]) if len(rows) > size else None
    return Page(items=items, next_cursor=next_cursor, order=order, first=values is None)
