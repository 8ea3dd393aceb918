"""The one way every list pages: keyset ("cursor") pagination, for HTML pages and the API alike.

A page is "the next N rows after this one", not "rows 13 to 24": a picture that arrives while
someone reads page one does not push a row they saw onto page two, and a deep page costs what
the first does. Lists run newest first, by keys that end with a unique one (``id``), so rows
with equal times never tie.

A cursor is a direction and the position of the row the page starts after (or ends before),
signed with the site's key and salted with the model and its keys, so a cursor works only on
the list that handed it out. It comes back from the browser, so it is untrusted: ``keyset_page``
checks its alphabet, length and signature, then the type of each value, in one guarded step,
and raises ``InvalidCursor`` for anything else. Callers answer that in words (pages 400, the
API 404), never with a 500 nor with a query built from a forged value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from django.core import signing
from django.db import models
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.encoding import escape_uri_path
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

M = TypeVar("M", bound=models.Model)

FORWARD, BACKWARD = "n", "p"
# Longer than any cursor we sign (a direction and three short values); checked before any decoding.
MAX_CURSOR_LENGTH = 400
_CURSOR = re.compile(rf"[A-Za-z0-9_:-]{{1,{MAX_CURSOR_LENGTH}}}")  # urlsafe base64 and the signer's ":"
_BIGINT = 2**63
INVALID_CURSOR = _("This page link is not valid (it may be damaged or out of date). Start from the first page.")


class InvalidCursor(Exception):
    """A cursor this list did not hand out: damaged, forged, or signed for another list."""

    message = INVALID_CURSOR


@dataclass(frozen=True)
class Page(Generic[M]):
    items: list[M]
    next_cursor: str | None
    previous_cursor: str | None
    first: bool  # no cursor was given: the start of the list


# --- the cursor: a signed list [direction, *values], each value checked for its key's field ------


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidCursor
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidCursor
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidCursor from None


def _integer(value: Any) -> int:
    if type(value) is not int or not -_BIGINT <= value < _BIGINT:
        raise InvalidCursor
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 255 or "\x00" in value:
        raise InvalidCursor
    return value


def _decoder(field: Any) -> Callable[[Any], Any]:
    if isinstance(field, models.DateTimeField):
        return _datetime
    if isinstance(field, models.IntegerField):
        return _integer
    if isinstance(field, models.CharField):
        return _text
    raise TypeError(f"{field!r} cannot be a pagination key: teach wee_waa.pagination its type")


class _Keyset:
    """The keys of one list, newest first, and the signer of that list's cursors."""

    def __init__(self, model: type[models.Model], keys: Sequence[str]) -> None:
        self.keys = tuple(keys)
        self.decoders = [_decoder(model._meta.get_field(key)) for key in self.keys]
        self.signer = signing.Signer(salt=f"wee_waa.pagination:{model._meta.label}:{','.join(self.keys)}")

    def encode(self, direction: str, row: models.Model) -> str:
        plain = [value.isoformat() if isinstance(value, datetime) else value for value in self.position(row)]
        return self.signer.sign_object([direction, *plain])

    def decode(self, cursor: str) -> tuple[str, list[Any]]:
        """The direction and checked values, or ``InvalidCursor``: every way a string can fail
        to be one of our cursors ends here, before the database sees any of it."""
        if not isinstance(cursor, str) or not _CURSOR.fullmatch(cursor):
            raise InvalidCursor
        try:
            payload = self.signer.unsign_object(cursor)
        except (signing.BadSignature, ValueError, TypeError):
            raise InvalidCursor from None
        if not isinstance(payload, list) or len(payload) != len(self.keys) + 1:
            raise InvalidCursor
        direction, *values = payload
        if direction not in (FORWARD, BACKWARD):
            raise InvalidCursor
        return direction, [decode(value) for decode, value in zip(self.decoders, values, strict=True)]

    def _beyond(self, values: Sequence[Any], lookup: str) -> Q:
        condition = Q()
        for index, key in enumerate(self.keys):
            step = Q(**{f"{key}__{lookup}": values[index]})
            for earlier, value in zip(self.keys[:index], values[:index], strict=True):
                step &= Q(**{earlier: value})
            condition |= step
        return condition

    def after(self, values: Sequence[Any]) -> Q:
        """Rows shown after ``values`` (older, in newest-first order)."""
        return self._beyond(values, "lt")

    def before(self, values: Sequence[Any]) -> Q:
        """Rows shown before ``values`` (newer)."""
        return self._beyond(values, "gt")

    def position(self, row: models.Model) -> list[Any]:
        return [getattr(row, key) for key in self.keys]


def keyset_page(queryset: QuerySet[M], *, keys: Sequence[str], cursor: str | None, size: int) -> Page[M]:
    """One page of ``queryset`` ordered by ``keys`` descending; raises ``InvalidCursor``.

    At most two queries: the page (one row extra, to know whether there is more that way) and,
    after a cursor, whether anything lies the other way (rows may have gone since)."""
    if size < 1:
        raise ValueError("A page holds at least one row")
    keyset = _Keyset(queryset.model, keys)
    if not cursor:
        direction, values = FORWARD, None
    else:
        direction, values = keyset.decode(cursor)
    newest_first = queryset.order_by(*[f"-{key}" for key in keyset.keys])
    if direction == FORWARD:
        rows = list((newest_first if values is None else newest_first.filter(keyset.after(values)))[: size + 1])
        items, more_after = rows[:size], len(rows) > size
        more_before = values is not None and (
            queryset.filter(keyset.before(keyset.position(items[0]) if items else values)).exists()
        )
    else:
        assert values is not None
        oldest_first = queryset.filter(keyset.before(values)).order_by(*keyset.keys)
        rows = list(oldest_first[: size + 1])
        items, more_before = rows[:size][::-1], len(rows) > size
        more_after = bool(items) and queryset.filter(keyset.after(keyset.position(items[-1]))).exists()
    return Page(
        items=items,
        next_cursor=keyset.encode(FORWARD, items[-1]) if items and more_after else None,
        previous_cursor=keyset.encode(BACKWARD, items[0]) if items and more_before else None,
        first=values is None,
    )


# --- HTML pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkedPage(Generic[M]):
    """A page for a template: its rows, links to the pages on either side and to the start
    (each keeping the list's own parameters, such as ``order``), and the refusal, if any."""

    items: list[M]
    next_url: str
    previous_url: str
    first_url: str
    first: bool
    error: str  # set when the cursor was refused; the page shown is then the list's start

    @property
    def status(self) -> int:
        return 400 if self.error else 200

    def __iter__(self) -> Iterator[M]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def page_for_request(
    request: HttpRequest,
    queryset: QuerySet[M],
    *,
    keys: Sequence[str],
    size: int,
    params: Mapping[str, str] | None = None,
) -> LinkedPage[M]:
    """The page ``?cursor=`` asks for. A refused cursor shows the start of the list with the
    reason, and the view answers 400 (``LinkedPage.status``): a person sees words and a way on;
    a 404 would tell a browser the list itself is gone."""
    error = ""
    try:
        page = keyset_page(queryset, keys=keys, cursor=request.GET.get("cursor"), size=size)
    except InvalidCursor as refused:
        page, error = keyset_page(queryset, keys=keys, cursor=None, size=size), str(refused.message)
    path, kept = escape_uri_path(request.path), dict(params or {})

    def link(cursor: str | None) -> str:
        query = urlencode({**kept, "cursor": cursor} if cursor else kept)
        return f"{path}?{query}" if query else path

    return LinkedPage(
        items=page.items,
        next_url=link(page.next_cursor) if page.next_cursor else "",
        previous_url=link(page.previous_cursor) if page.previous_cursor else "",
        first_url=link(None),
        first=page.first,
        error=error,
    )


# --- the API -----------------------------------------------------------------------------------


class KeysetPagination(BasePagination):
    """DRF's side of the same cursors: ``{"next", "previous", "results"}`` with absolute links,
    ``?page_size=`` within ``1..max_page_size`` (anything else is the default size), and a
    refused cursor a 404 with the reason in ``detail``, as DRF's own cursor pagination answers."""

    keys: tuple[str, ...] = ("created_at", "id")
    page_size = 20
    max_page_size = 100
    page_size_query_param = "page_size"

    def get_page_size(self, request: Request) -> int:
        asked = request.query_params.get(self.page_size_query_param, "")
        if not re.fullmatch(r"[0-9]{1,20}", asked) or int(asked) < 1:
            return self.page_size
        return min(int(asked), self.max_page_size)

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        self.request = request
        try:
            self.page = keyset_page(
                queryset, keys=self.keys, cursor=request.query_params.get("cursor"), size=self.get_page_size(request)
            )
        except InvalidCursor as refused:
            raise NotFound(refused.message) from None
        return self.page.items

    def _link(self, cursor: str | None) -> str | None:
        return replace_query_param(self.request.build_absolute_uri(), "cursor", cursor) if cursor else None

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "next": self._link(self.page.next_cursor),
                "previous": self._link(self.page.previous_cursor),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["results"],
            "properties": {"next": link, "previous": link, "results": schema},
        }
