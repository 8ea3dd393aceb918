"""Keyset ("cursor") pagination for the public lists: stable while new pictures arrive, and
cheap at any depth. Every ordering ends with ``id``, so equal times never tie.

A cursor comes back from the browser, so it is untrusted: it is decoded, checked field by
field (a count is a whole number in range, a time is an aware date within sane years, an id
is made of id characters) and only then used. Anything else means the first page, never an
error: a stale or forged cursor is not worth a 500, nor a database error on PostgreSQL.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q, QuerySet

from gallery.models import Creation

ORDERINGS: dict[str, tuple[str, ...]] = {
    "newest": ("created_at", "id"),
    "liked": ("like_count", "created_at", "id"),
}

# Longer than any cursor we hand out (three short values); also keeps json.loads from deep nesting.
MAX_CURSOR_LENGTH = 200
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_MAX_COUNT = 2**31 - 1  # PositiveIntegerField's range on every database
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass
class Page:
    items: list[Creation]
    next_cursor: str | None
    order: str
    first: bool


def _encode(values: list[Any]) -> str:
    raw = json.dumps([value.isoformat() if isinstance(value, datetime) else value for value in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a cursor value")


def _created_at(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    moment = moment.astimezone(UTC)  # may overflow at the calendar's edges: the caller catches it
    return moment if _EARLIEST <= moment < _LATEST else None


def _like_count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_COUNT:
        return None
    return value


def _id(value: Any) -> str | None:
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


_FIELDS = {"created_at": _created_at, "like_count": _like_count, "id": _id}


def decode_cursor(cursor: str | None, fields: tuple[str, ...]) -> list[Any] | None:
    """The cursor's values, each checked for its field, or None (the first page).

    Never raises: every way a string can fail to be a cursor is caught here, in one place.
    """
    if not cursor or not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw, parse_constant=_no_constants)
        if not isinstance(values, list) or len(values) != len(fields):
            return None
        checked = [_FIELDS[field](value) for field, value in zip(fields, values, strict=True)]
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error):
        return None
    return None if any(value is None for value in checked) else checked


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
    values = decode_cursor(cursor, fields)
    if values is not None:
        creations = creations.filter(_after(fields, values))
    rows = list(creations.order_by(*[f"-{field}" for field in fields])[: size + 1])
    items = rows[:size]
    next_cursor = _encode([getattr(items[-1], field) for field in fields]) if len(rows) > size else None
    return Page(items=items, next_cursor=next_cursor, order=order, first=values is None)
