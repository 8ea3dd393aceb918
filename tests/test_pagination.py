"""The one pagination scheme (wee_waa/pagination.py): keyset pages that stay put while rows
arrive, walk both ways, and refuse any cursor they did not sign, before the database sees it."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gallery import services
from gallery.models import Creation
from generation.models import GenerationJob
from tests.factories import drawn_background
from wee_waa.pagination import InvalidCursor, Page, keyset_page

pytestmark = pytest.mark.django_db

NEWEST = ("created_at", "id")
LIKED = ("like_count", "created_at", "id")


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


def _ids(page: Page[Creation]) -> list[str]:
    return [creation.id for creation in page.items]


def _walk_forward(keys: tuple[str, ...], size: int = 5) -> list[Page[Creation]]:
    pages, cursor = [], None
    while True:
        pages.append(keyset_page(Creation.objects.all(), keys=keys, cursor=cursor, size=size))
        cursor = pages[-1].next_cursor
        if cursor is None:
            return pages


@pytest.mark.parametrize("keys", [NEWEST, LIKED], ids=["newest", "liked"])
def test_paging_forward_visits_every_row_once_in_order_even_with_ties(thirteen: list[Creation], keys: Any) -> None:
    pages = _walk_forward(keys)

    seen = [creation_id for page in pages for creation_id in _ids(page)]
    expected = Creation.objects.order_by(*[f"-{key}" for key in keys])
    assert seen == [creation.id for creation in expected]
    assert [len(page.items) for page in pages] == [5, 5, 3]
    assert pages[0].first and pages[0].previous_cursor is None
    assert all(page.previous_cursor for page in pages[1:])


@pytest.mark.parametrize("keys", [NEWEST, LIKED], ids=["newest", "liked"])
def test_paging_back_shows_the_same_pages_as_paging_forward(thirteen: list[Creation], keys: Any) -> None:
    forward = _walk_forward(keys)
    back, cursor = [], forward[-1].previous_cursor
    while cursor is not None:
        back.append(keyset_page(Creation.objects.all(), keys=keys, cursor=cursor, size=5))
        cursor = back[-1].previous_cursor

    assert [_ids(page) for page in back] == [_ids(page) for page in reversed(forward[:-1])]
    assert back[-1].next_cursor is not None and not back[-1].first


def test_a_picture_shared_between_pages_neither_repeats_nor_hides_a_row(thirteen: list[Creation], alice: Any) -> None:
    """With ``?page=2`` the newcomer pushed page one's last row onto page two, shown twice."""
    first = keyset_page(Creation.objects.all(), keys=NEWEST, cursor=None, size=5)
    newcomer = services.creation_create(owner=alice, background=thirteen[0].background, layers=[], visibility="public")

    seen, cursor = _ids(first), first.next_cursor
    while cursor is not None:
        page = keyset_page(Creation.objects.all(), keys=NEWEST, cursor=cursor, size=5)
        seen, cursor = seen + _ids(page), page.next_cursor
    back = keyset_page(Creation.objects.all(), keys=NEWEST, cursor=first.next_cursor, size=5)
    back = keyset_page(Creation.objects.all(), keys=NEWEST, cursor=back.previous_cursor, size=5)

    assert sorted(seen) == sorted(creation.id for creation in thirteen)  # each once, the newcomer not yet
    assert _ids(back) == _ids(first)  # Previous returns what was read
    assert back.previous_cursor is not None  # ...and offers the newcomer above it
    above = keyset_page(Creation.objects.all(), keys=NEWEST, cursor=back.previous_cursor, size=5)
    assert _ids(above) == [newcomer.id] and above.previous_cursor is None


def test_a_page_whose_rows_were_deleted_is_empty_without_links(thirteen: list[Creation]) -> None:
    first = keyset_page(Creation.objects.all(), keys=NEWEST, cursor=None, size=5)
    Creation.objects.exclude(id__in=_ids(first)).delete()

    gone = keyset_page(Creation.objects.all(), keys=NEWEST, cursor=first.next_cursor, size=5)

    assert gone.items == [] and gone.next_cursor is None and not gone.first
    assert gone.previous_cursor is None  # nothing to anchor on: the page offers the start instead


def _unsigned(raw: str | bytes) -> str:
    data = raw.encode() if isinstance(raw, str) else raw
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


NOW = "2024-05-01T12:00:00.123456+00:00"
ID = "AAAAAAAAAAAAAAAAAAAAAA"
# Cursors the old schemes decoded (base64 JSON, DRF's "p=" tokens) and then choked on, or used.
FORGED = {
    "a well-formed position we did not sign": _unsigned(f'["n", 1, "{NOW}", "{ID}"]'),
    "the old hand-written format": _unsigned(f'[1, "{NOW}", "{ID}"]'),
    "a DRF cursor": _unsigned("p=0001-01-01T00:00:00%2B14:00&r=1"),
    "NaN": _unsigned(f'["n", NaN, "{NOW}", "{ID}"]'),
    "nested 5,000 deep": _unsigned("[" * 5000 + "]" * 5000),
    "not UTF-8": _unsigned(b"\xff\xfe[1]"),
    "not base64": "%%%",
    "a lone surrogate": "\ud800:abc",
    "a NUL byte": "a\x00b:c",
    "5,000 characters": "a" * 5000,
    "an empty signature": _unsigned(f'["n", 1, "{NOW}", "{ID}"]') + ":",
}


@pytest.mark.parametrize("cursor", FORGED.values(), ids=FORGED.keys())
def test_a_cursor_we_did_not_sign_is_refused(thirteen: list[Creation], cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        keyset_page(Creation.objects.all(), keys=LIKED, cursor=cursor, size=5)


def test_a_cursor_works_only_on_the_list_that_handed_it_out(thirteen: list[Creation]) -> None:
    newest = keyset_page(Creation.objects.all(), keys=NEWEST, cursor=None, size=5).next_cursor
    assert newest is not None
    payload, signature = newest.rsplit(":", 1)
    tampered = payload + ":" + ("A" if signature[0] != "A" else "B") + signature[1:]

    with pytest.raises(InvalidCursor):
        keyset_page(Creation.objects.all(), keys=LIKED, cursor=newest, size=5)
    with pytest.raises(InvalidCursor):
        keyset_page(Creation.objects.all(), keys=NEWEST, cursor=tampered, size=5)
    with pytest.raises(InvalidCursor):
        keyset_page(GenerationJob.objects.all(), keys=NEWEST, cursor=newest, size=5)


@given(cursor=st.text(max_size=300))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_string_as_a_cursor_is_refused_in_words(alice: Any, cursor: str) -> None:
    if not cursor:
        assert keyset_page(Creation.objects.all(), keys=LIKED, cursor=cursor, size=5).first
        return
    with pytest.raises(InvalidCursor) as refused:
        keyset_page(Creation.objects.all(), keys=LIKED, cursor=cursor, size=5)
    assert "not valid" in str(refused.value.message)


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


@given(payload=st.one_of(json_values, st.lists(field_values, min_size=3, max_size=5)), direction=st.sampled_from("np"))
@example(payload=[1, "0001-01-01T00:00:00+14:00", ID], direction="n")  # past the calendar's start in UTC
@example(payload=[2**62, "9999-12-31T23:59:59.999999-14:00", ID], direction="p")  # past its end
@example(payload=[2**63, NOW, ID], direction="n")  # past any integer column
@example(payload=[1, "2199-06-30T23:00:00-05:00", ID], direction="n")  # a fine position: pages
@example(payload=[1, "2199-06-30T23:00:00-05:00", ID], direction="p")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_even_a_signed_cursor_is_checked_value_by_value(alice: Any, payload: Any, direction: str) -> None:
    """Were the key to leak, or a list's keys to change under old links, a signed payload of any
    shape is still a page or a refusal, never an error from the database."""
    if isinstance(payload, list):
        payload = [direction, *payload]
    signer = signing.Signer(salt=f"wee_waa.pagination:gallery.Creation:{','.join(LIKED)}")
    cursor = signer.sign_object(json.loads(json.dumps(payload)))  # what JSON can carry

    try:
        page = keyset_page(Creation.objects.filter(owner=alice), keys=LIKED, cursor=cursor, size=5)
    except InvalidCursor:
        return
    assert not page.first
