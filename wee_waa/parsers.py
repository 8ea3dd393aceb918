"""A strict JSON parser for the API: whatever a client sends, the answer is a 400 with words.

DRF's own parser hands the body to ``json.load``, which recurses (a body nested 5,000 deep
raised ``RecursionError`` and a 500), accepts ``NaN``/``Infinity``/``1e400`` and lets NUL bytes
and lone surrogates through to the database (PostgreSQL's jsonb and text refuse ``\\u0000``)
and to the renderer (a lone surrogate cannot be encoded as UTF-8). Here the depth is counted
without recursion before anything is decoded, and every string, key and number is checked
after, so nothing odd gets past the parse step.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

# Nesting a real client needs: a creation's layers are an object in a list in an object.
MAX_DEPTH = 32

# A JSON string literal (escapes included); removed before counting brackets, so a "[" inside
# a string is not counted.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
# NUL and the surrogate block: after decoding, a surrogate left in a str is a lone one (a
# valid pair decodes to one astral character).
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


class JsonBodyError(ParseError):
    """A parse error whose message says what is wrong; the API's exception handler keeps it."""


def _deeper_than(text: str, limit: int) -> bool:
    """Whether brackets nest deeper than ``limit``: one pass, no recursion, strings skipped."""
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _reject_constant(name: str) -> Any:
    raise JsonBodyError(_("Numbers must be finite: NaN and Infinity are not allowed."))


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise JsonBodyError(_("A number in the request body is too large."))
    return value


def _check_strings(value: Any) -> None:
    """Walk the decoded value with a stack (no recursion) and refuse NUL and lone surrogates."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            texts: list[str] = [item]
        elif isinstance(item, Mapping):
            texts = list(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
            continue
        else:
            continue
        if any(_FORBIDDEN.search(text) for text in texts):
            raise JsonBodyError(
                _("The request body contains a character that is not allowed (a NUL byte or a lone surrogate).")
            )


def parse_json_text(text: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """Decode ``text`` strictly, or raise :class:`JsonBodyError` with a message for people."""
    if _deeper_than(text, max_depth):
        raise JsonBodyError(
            _("The request body is nested too deeply (at most %(depth)d levels).") % {"depth": max_depth}
        )
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except JsonBodyError:
        raise
    except (ValueError, RecursionError) as error:  # JSONDecodeError, an int of 5,000 digits
        raise JsonBodyError(_("The request body is not valid JSON.")) from error
    _check_strings(value)
    return value


class StrictJSONParser(BaseParser):
    media_type = "application/json"

    def parse(self, stream: IO[bytes], media_type: str | None = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise JsonBodyError(_("The request body is not valid UTF-8 text.")) from error
        return parse_json_text(text)
