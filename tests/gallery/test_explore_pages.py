"""Explore pages by cursor: newest and most liked, stable with ties, and a bad cursor is page one."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gallery import services
from gallery.models import Creation
from gallery.pagination import ORDERINGS, decode_cursor, keyset_page
from tests.factories import drawn_background

pytestmark = pytest.mark.django_db


@pytest.fixture
def thirteen(alice: Any) -> list[Creation]:
    background = drawn_background(alice, kept=False)
    made = [
        services.creation_create(owner=alice, background=background, layers=[], visibility="public") for _ in range(13)
    ]
    # All at one instant: only the id tiebreaker keeps the order total.
    Creation.objects.update(created_at=timezone.now())
    for index, creation in enumerate(made):
        Creation.objects.filter(id=creation.id).update(like_count=index % 3)
    return made


def all_pages(order: str) -> list[str]:
    seen, cursor = [], None
    while True:
        page = keyset_page(Creation.objects.all(), order, cursor, 5)
        seen += [creation.id for creation in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen


@pytest.mark.parametrize("order", ["newest", "liked"])
def test_paging_visits_every_creation_once_in_order_even_with_ties(thirteen: list[Creation], order: str) -> None:
    seen = all_pages(order)

    assert sorted(seen) == sorted(creation.id for creation in thirteen)
    expected = Creation.objects.order_by(*(["-like_count"] if order == "liked" else []), "-created_at", "-id")
    assert seen == [creation.id for creation in expected]


def test_the_explore_page_links_to_the_next_page_and_survives_a_bad_cursor(thirteen: list[Creation]) -> None:
    client = Client()
    first = client.get("/explore/?order=liked").content.decode()
    next_link = re.search(r'class="next-page" href="([^"]+)"', first)

    assert next_link is not None
    second = client.get("/explore/" + next_link.group(1).replace("&amp;", "&")).content.decode()
    assert second.count("data-creation-id") == 1
    assert client.get("/explore/?cursor=%%%not-base64").status_code == 200


def _cursor(raw: str | bytes) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


NOW = "2024-05-01T12:00:00.123456+00:00"
ID = "AAAAAAAAAAAAAAAAAAAAAA"
# Each a well-formed cursor (base64 of JSON) that the old code decoded, then choked on.
FORGED = {
    "nulls": "[null, null, null]",
    "a string for the count": f'["3", "{NOW}", "{ID}"]',
    "a word for the count": f'["many", "{NOW}", "{ID}"]',
    "a boolean for the count": f'[true, "{NOW}", "{ID}"]',
    "a negative count": f'[-1, "{NOW}", "{ID}"]',
    "a count past any integer column": f'[99999999999999999999, "{NOW}", "{ID}"]',
    "NaN": f'[NaN, "{NOW}", "{ID}"]',
    "Infinity": f'[Infinity, "{NOW}", "{ID}"]',
    "1e400": f'[1e400, "{NOW}", "{ID}"]',
    "a fraction": f'[1.5, "{NOW}", "{ID}"]',
    "the first day of the calendar": f'[1, "0001-01-01T00:00:00", "{ID}"]',
    "the first day, east of UTC": f'[1, "0001-01-01T00:00:00+14:00", "{ID}"]',
    "the last instant of the calendar": f'[1, "9999-12-31T23:59:59.999999+14:00", "{ID}"]',
    "the last instant, west of UTC": f'[1, "9999-12-31T23:59:59.999999-14:00", "{ID}"]',
    "a naive date": f'[1, "2024-05-01T12:00:00", "{ID}"]',
    "a date that is not one": f'[1, "2024-02-30T00:00:00+00:00", "{ID}"]',
    "a number for the date": f'[1, 1714564800, "{ID}"]',
    "a number for the id": f'[1, "{NOW}", 5]',
    "a list for the id": f'[1, "{NOW}", [1, 2]]',
    "a NUL byte in the id": f'[1, "{NOW}", "a\\u0000b"]',
    "a lone surrogate in the id": f'[1, "{NOW}", "\\ud800"]',
    "an id of 5,000 characters": f'[1, "{NOW}", "{"a" * 5000}"]',
    "an object": '{"like_count": 1}',
    "too few values": "[1]",
    "nested 5,000 deep": "[" * 5000 + "]" * 5000,
}


def _ids(html: str) -> list[str]:
    return re.findall(r'data-creation-id="([^"]+)"', html)


@pytest.mark.parametrize("path", ["/explore/", "/u/alice/"])
@pytest.mark.parametrize("order", ["liked", "newest"])
def test_a_forged_cursor_shows_page_one_instead_of_an_error(thirteen: list[Creation], path: str, order: str) -> None:
    client = Client()
    page_one = _ids(client.get(f"{path}?order={order}").content.decode())
    cursors = {kind: _cursor(raw) for kind, raw in FORGED.items()}
    cursors |= {"bytes that are not UTF-8": _cursor(b"\xff\xfe[1]"), "not base64": "%%%"}
    failures = {}
    for kind, cursor in cursors.items():
        response = client.get(path, {"order": order, "cursor": cursor})
        if response.status_code != 200 or _ids(response.content.decode()) != page_one:
            failures[kind] = response.status_code

    assert len(page_one) == 12
    assert failures == {}


def test_a_well_formed_cursor_we_did_not_hand_out_still_pages(thirteen: list[Creation]) -> None:
    """The checks refuse nonsense, not strangers: any in-range position is a place to start."""
    later = keyset_page(Creation.objects.all(), "liked", _cursor(f'[1, "2199-06-30T23:00:00-05:00", "{ID}"]'), 50)

    assert not later.first
    assert {creation.like_count for creation in later.items} == {0, 1}
    assert len(later.items) == sum(1 for creation in Creation.objects.all() if creation.like_count <= 1)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=12,
)
field_values = st.one_of(
    json_values,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.datetimes(timezones=st.none() | st.timezones()).map(lambda moment: moment.isoformat()),
    st.from_regex(r"[A-Za-z0-9_-]{1,70}", fullmatch=True),
)


@given(
    cursor=st.one_of(
        st.text(max_size=300),
        json_values.map(lambda value: _cursor(json.dumps(value))),
        st.lists(field_values, min_size=2, max_size=3).map(lambda values: _cursor(json.dumps(values))),
    ),
    order=st.sampled_from(["liked", "newest"]),
)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_string_as_a_cursor_is_page_one_or_a_valid_page(alice: Any, cursor: str, order: str) -> None:
    fields = ORDERINGS[order]
    values = decode_cursor(cursor, fields)

    if values is not None:
        assert len(values) == len(fields)
        for field, value in zip(fields, values, strict=True):
            if field == "like_count":
                assert type(value) is int and 0 <= value < 2**31
            elif field == "created_at":
                assert value.tzinfo is not None and 2000 <= value.year < 2200
            else:
                assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value)
    page = keyset_page(Creation.objects.filter(owner=alice), order, cursor, 5)  # the query runs, too
    assert page.first == (values is None)
