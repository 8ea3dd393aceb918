"""Property-based fuzzing of every endpoint: whatever a client sends, the answer is never a 5xx.

The endpoints come from walking the URL resolver, so a new page or API is fuzzed the day it is
added. For each one hypothesis draws path parameters (ids that exist, ids of the right shape,
raw bytes with NUL, encoded surrogates, invalid UTF-8, 5,000 characters), query parameters
(cursors forged every way we know: random text, base64 JSON with nulls, strings, NaN,
1e400, dates at the calendar's edges; page, page_size, order), bodies (JSON of fitting and
unfitting types, nesting 5,000 deep, lone surrogates, form posts) and a method, as an anonymous
visitor, a signed-in user and a staff member (both with a CSRF token). No job is ever drawn:
the model manager does not run, jobs just queue.

Runs on SQLite by default and on PostgreSQL in tests/integration/test_postgresql.py.
``WEE_WAA_FUZZ_EXAMPLES`` sets the examples per endpoint (default 24).
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern, RegexPattern, RoutePattern
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.environment import UNDER_CI

EXAMPLES = int(os.environ.get("WEE_WAA_FUZZ_EXAMPLES", "24"))
# Weighted toward the methods that carry a body, and toward a signed-in user.
METHODS = ["GET", "GET", "HEAD", "POST", "POST", "POST", "PATCH", "PATCH", "PUT", "DELETE", "OPTIONS"]
WHO = ["alice", "alice", "staff", "anonymous"]
RAN: Counter[str] = Counter()


# --- every endpoint, from the URL resolver ----------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    # (kind, source, label): ("literal", text, text) | ("value", converter regex, "<name>") | ("regex", regex, …)
    parts: tuple[tuple[str, str, str], ...]

    @property
    def name(self) -> str:
        return "".join(label for _, _, label in self.parts) or "/"


_PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<parameter>[^>]+)>")


def _parts(pattern: Any) -> list[tuple[str, str, str]]:
    if isinstance(pattern, RoutePattern):
        route, parts, position = str(pattern._route), [], 0
        for match in _PLACEHOLDER.finditer(route):
            literal = route[position : match.start()]
            parts += [("literal", literal, literal)]
            parts += [("value", pattern.converters[match["parameter"]].regex, f"<{match['parameter']}>")]
            position = match.end()
        return [*parts, ("literal", route[position:], route[position:])]
    if isinstance(pattern, RegexPattern):
        regex = str(pattern._regex).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
        return [("regex", regex, re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", regex))] if regex else []
    if isinstance(pattern, LocalePrefixPattern):
        return [("literal", pattern.language_prefix, pattern.language_prefix)]
    raise TypeError(f"Unknown URL pattern type {type(pattern)!r}: teach the fuzz test about it")


def _walk(entries: list[Any], prefix: list[tuple[str, str, str]]) -> Iterator[Endpoint]:
    for entry in entries:
        parts = prefix + _parts(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, parts)
        elif isinstance(entry, URLPattern):
            yield Endpoint(tuple(part for part in parts if part[1] or part[0] != "literal"))


ENDPOINTS = sorted(set(_walk(get_resolver().url_patterns, [])), key=lambda endpoint: endpoint.name)


def test_the_walk_finds_the_endpoints_the_issue_names() -> None:
    names = {endpoint.name for endpoint in ENDPOINTS}
    for expected in ("studio/", "explore/", "api/v1/jobs/", "api/v1/creations/", "api/v1/characters/", "healthz"):
        assert expected in names
    for prefix in ("api/v1/jobs/<", "api/v1/creations/<", "accounts/", "s/<", "c/<", "u/<", "admin/", "media/<"):
        assert any(name.startswith(prefix) for name in names), prefix


# --- the world the requests meet: users, a queued job, a picture, a character, creations --------


@dataclass
class World:
    ids: list[str]
    clients: dict[str, Client] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def _png(size: tuple[int, int], mode: str = "RGB") -> ContentFile[bytes]:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 120, 40, 255)[: len(mode)]).save(buffer, "PNG")
    return ContentFile(buffer.getvalue(), name="fuzz.png")


@pytest.fixture
def world(db: None, settings: Any) -> World:
    from django.utils import timezone

    from accounts.models import User
    from gallery import services as gallery_services
    from gallery.models import Character
    from generation.models import Background
    from tests.factories import queue_job

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # 120 fresh worlds
    alice = User.objects.create_user("alice", "alice@example.com", "correct horse battery")
    User.objects.create_user("bob", "bob@example.com", "correct horse battery")
    staff = User.objects.create_superuser("staff", "staff@example.com", "correct horse battery")
    queued = queue_job(alice)
    drawn = queue_job(alice)
    drawn.status = "succeeded"
    drawn.save()
    background = Background.objects.create(
        job=drawn, index=0, seed=1, image=_png((64, 64)), width=64, height=64, kept_at=timezone.now()
    )
    character = Character.objects.create(slug="fuzz", name="Fuzz", image=_png((16, 16), "RGBA"), width=16, height=16)
    layer = {"character": character.id, "x": 0.5, "y": 0.5, "scale": 0.5, "flip": False, "z": 0}
    public = gallery_services.creation_create(owner=alice, background=background, layers=[layer], visibility="public")
    unlisted = gallery_services.creation_create(owner=alice, background=background, layers=[], visibility="unlisted")
    ids = [queued.id, drawn.id, background.id, character.id, public.id, unlisted.id, "alice", "bob", "staff"]
    ids += [token for token in (getattr(unlisted, "share_token", None),) if token]
    ids += [str(name) for name in (background.image.name, public.image.name) if name]

    made = World(ids=ids)
    for who, user in (("anonymous", None), ("alice", alice), ("staff", staff)):
        client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        if user is not None:
            client.force_login(user)
        made.tokens[who] = get_random_string(32)
        client.cookies[django_settings.CSRF_COOKIE_NAME] = made.tokens[who]
        made.clients[who] = client
    return made


# --- strategies -------------------------------------------------------------------------------

HOSTILE_TEXT = [
    "", "\x00", "a\x00b", "\ud800", "\udfff", "\U0001f3a8", "x" * 5000, "\u0430dmin", "..", "%00", " ", "null",
    "NaN", "-1", "0", "1e400", "9" * 400, "<script>", "' OR 1=1 --", "\u202e", "\ufdfa" * 20,
]  # fmt: skip
HOSTILE_BYTES = [b"\x00", b"\xed\xa0\x80", b"\xff\xfe", b"\xc0\xaf", b"a" * 5000, b"%", b"\x00" * 3, b"../.."]
FIELDS = [
    "prompt", "count", "width", "height", "steps", "seed", "style", "image", "layers", "title", "visibility",
    "reason", "background", "character", "x", "y", "scale", "flip", "z", "token", "order", "cursor",
]  # fmt: skip
FORM_FIELDS = ["username", "password", "password1", "password2", "email", "language", "next", "q", "action", "o"]

text = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Z", "C"]), max_size=10),
    st.sampled_from(HOSTILE_TEXT),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),  # lone surrogates
)
raw_bytes = st.one_of(
    st.binary(max_size=24), st.sampled_from(HOSTILE_BYTES), text.map(lambda t: t.encode("utf-8", "surrogatepass"))
)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | text, inner, max_size=5),
)


def _layer(ids: list[str]) -> st.SearchStrategy[Any]:
    number = st.one_of(st.floats(-2, 3, allow_nan=False), st.integers(-5, 5), scalars)
    return st.fixed_dictionaries(
        {},
        optional={
            "character": st.sampled_from(ids) | text, "x": number, "y": number, "scale": number,
            "flip": st.booleans() | scalars, "z": st.integers(-3, 50) | scalars,
        },
    )  # fmt: skip


def _fitting(ids: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects shaped like what the API reads, with values of fitting and unfitting types."""
    known = st.sampled_from(ids)
    per_field: dict[str, st.SearchStrategy[Any]] = {
        "prompt": text | st.just("a snowy street at dawn"),
        "count": st.integers(-1, 6) | scalars,
        "width": st.sampled_from([64, 72, 1024, 1032, 0]) | scalars,
        "height": st.sampled_from([64, 72, 1024, 1032, 0]) | scalars,
        "steps": st.integers(0, 60) | scalars,
        "seed": st.integers(-1, 2**64) | scalars,
        "style": known | scalars,
        "image": known | scalars,
        "background": known | scalars,
        "layers": st.lists(_layer(ids), max_size=30) | json_values,
        "title": text,
        "visibility": st.sampled_from(["private", "unlisted", "public", "PUBLIC", ""]) | scalars,
        "reason": text | st.sampled_from(["spam", "copyright", "other"]),
    }
    return st.fixed_dictionaries({}, optional=per_field)


def _cursor() -> st.SearchStrategy[bytes]:
    edge_dates = st.sampled_from(
        [
            "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59.999999+00:00",
            "2026-02-30T00:00:00+00:00", "2026-01-01T00:00:00", "2026-01-01 00:00:00+00:00", "now",
        ]
    )  # fmt: skip
    values = st.lists(st.one_of(json_values, edge_dates), max_size=4)
    raw_json = st.sampled_from(['[NaN, "x"]', "[Infinity]", "[1e400, 1e400, 1e400]", '["a",' * 50, "[" * 300])
    as_json = values.map(lambda v: json.dumps(v, ensure_ascii=True)) | raw_json
    drf = st.fixed_dictionaries({}, optional={"p": edge_dates | text, "o": text, "r": text}).map(
        lambda tokens: urllib.parse.urlencode(tokens, encoding="utf-8", errors="surrogatepass")
    )
    encoded = (as_json | drf).map(lambda s: s.encode("utf-8", "surrogatepass"))
    return st.one_of(
        encoded.map(base64.urlsafe_b64encode),
        encoded.map(base64.b64encode),
        encoded.map(lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")),
        raw_bytes,
    )


def _quote(value: str | bytes, safe: str = "") -> str:
    data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return urllib.parse.quote_from_bytes(data, safe=safe)


def _path(endpoint: Endpoint, ids: list[str]) -> st.SearchStrategy[str]:
    pieces: list[st.SearchStrategy[str]] = []
    for kind, source, _ in endpoint.parts:
        if kind == "literal":
            pieces.append(st.just(_quote(source, safe="/")))
            continue
        shaped = st.from_regex(source, fullmatch=True).map(lambda v: _quote(v, safe="/"))
        literal = re.match(r"[\w/.-]*", source)
        prefix = literal.group() if literal and kind == "regex" else ""
        hostile = raw_bytes.map(lambda b, prefix=prefix: prefix + _quote(b))
        known = st.sampled_from(ids).map(lambda value, prefix=prefix: prefix + _quote(value, safe="/"))
        # Mostly ids that exist: the code behind the router is where the bugs live.
        pieces.append(st.one_of(known, known, known, shaped, hostile))
    return st.tuples(*pieces).map(lambda parts: "/" + "".join(parts))


def _query() -> st.SearchStrategy[str]:
    number = st.one_of(st.integers(-(10**6), 10**20).map(str), text).map(lambda v: v.encode("utf-8", "surrogatepass"))
    params = st.fixed_dictionaries(
        {},
        optional={
            "cursor": _cursor(), "page": number, "page_size": number,
            "order": st.sampled_from([b"newest", b"liked"]) | raw_bytes, "t": raw_bytes, "q": raw_bytes,
            "next": raw_bytes, "o": raw_bytes, "p": number,
        },
    )  # fmt: skip
    return params.map(lambda items: "&".join(f"{key}={_quote(value)}" for key, value in items.items()))


def _body(ids: list[str], token: str) -> st.SearchStrategy[tuple[bytes, str]]:
    as_json = json_values.map(lambda value: json.dumps(value, ensure_ascii=True, allow_nan=True).encode())
    raw = st.sampled_from(
        [b"[" * 5000 + b"]" * 5000, b'{"prompt": ' + b"[" * 40 + b"]" * 40 + b"}", b'{"prompt": "\\ud800"}',
         b'{"seed": 1e400}', b'{"seed": NaN}', b"\xff\xfe{}", b"", b"{", b"null", b'{"layers": "\\u0000"}']
    )  # fmt: skip
    form = st.dictionaries(st.sampled_from(FORM_FIELDS + FIELDS), raw_bytes | text, max_size=6).map(
        lambda items: "&".join(
            f"{_quote(key)}={_quote(value)}" for key, value in {**items, "csrfmiddlewaretoken": token}.items()
        ).encode()
    )
    fitting = _fitting(ids).map(lambda value: json.dumps(value, ensure_ascii=True, allow_nan=True).encode())
    return st.one_of(
        *[st.tuples(fitting, st.just("application/json"))] * 3,
        *[st.tuples(raw, st.just("application/json"))] * 2,
        st.tuples(as_json, st.just("application/json")),
        st.tuples(form, st.just("application/x-www-form-urlencoded")),
        st.tuples(
            raw_bytes,
            st.sampled_from(["text/plain", "multipart/form-data; boundary=x", "application/json; charset=nope"]),
        ),
    )


# --- the property -----------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _say_how_many_ran(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(RAN.items()) if status.isdigit())
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nfuzz: {RAN['requests']} requests over {RAN['endpoints']} endpoints, no 5xx ({statuses})")


def _fuzz(endpoint: Endpoint, world: World, data: st.DataObject) -> None:
    if not RAN[f"seen:{endpoint.name}"]:
        RAN["endpoints"] += 1
        RAN[f"seen:{endpoint.name}"] = 1
    path = data.draw(_path(endpoint, world.ids), label="path")
    query = data.draw(_query(), label="query")
    who = data.draw(st.sampled_from(WHO), label="who")
    method = data.draw(st.sampled_from(METHODS), label="method")
    body, content_type = b"", "application/octet-stream"
    if method in ("POST", "PATCH", "PUT", "DELETE"):
        body, content_type = data.draw(_body(world.ids, world.tokens[who]), label="body")
    url = f"{path}?{query}" if query else path

    response = world.clients[who].generic(
        method, url, body, content_type=content_type, headers={"X-CSRFToken": world.tokens[who]}
    )

    RAN["requests"] += 1
    RAN[str(response.status_code)] += 1
    assert response.status_code < 500, f"{method} {url[:300]} as {who}, body {body[:300]!r} → {response.status_code}"


FUZZ = settings(
    deadline=None,
    database=None,  # nothing written into the checkout
    derandomize=UNDER_CI,  # the same cases on every CI run; new ones on every local run
    suppress_health_check=list(HealthCheck),
)
OURS = [endpoint for endpoint in ENDPOINTS if not endpoint.name.startswith("admin/")]
ADMIN = [endpoint for endpoint in ENDPOINTS if endpoint.name.startswith("admin/")]


@pytest.mark.parametrize("endpoint", OURS, ids=lambda endpoint: endpoint.name)
@settings(FUZZ, max_examples=EXAMPLES * 3)
@given(data=st.data())
def test_no_request_to_any_endpoint_gets_a_5xx(endpoint: Endpoint, world: World, data: st.DataObject) -> None:
    _fuzz(endpoint, world, data)


@pytest.mark.parametrize("endpoint", ADMIN, ids=lambda endpoint: endpoint.name)
@settings(FUZZ, max_examples=max(1, EXAMPLES // 2))
@given(data=st.data())
def test_no_request_to_the_admin_gets_a_5xx(endpoint: Endpoint, world: World, data: st.DataObject) -> None:
    """Django's own admin (every registered model), fuzzed more lightly: it is mostly not ours."""
    _fuzz(endpoint, world, data)
