"""The OpenAPI document (/api/v1/schema/) and the docs page (/api/docs/).

The schema is generated from the API's own serializers and annotations, so these tests hold it
to the code: it validates, it lists every /api/v1/ URL the resolver knows (a new endpoint
without a schema fails here), every operation that can answer 429 says so with Retry-After,
its examples fit their schemas, and it links the websocket events' JSON Schema.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from gallery import limits as gallery_limits
from gallery import services as gallery_services
from generation import services as generation_services

METHODS = ("get", "post", "put", "patch", "delete")
# Not operations of the API: the document itself.
NOT_DOCUMENTED = {"/api/v1/schema/"}
EVENTS_SCHEMA_URL = "/api/v1/events/schema.json"


@pytest.fixture(scope="module")
def schema(django_db_setup: Any, django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/?format=json", HTTP_HOST="localhost")
    assert response.status_code == 200, response.content[:500]
    return dict(json.loads(response.content))


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A response or schema with its ``$ref`` (``#/components/…``) followed."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _api_urls() -> Iterator[tuple[str, Any]]:
    """Every URL under /api/v1/ the resolver knows, as an OpenAPI path, with its view."""

    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route), pattern.callback

    for path, view in walk(get_resolver().url_patterns, ""):
        if path.startswith("/api/v1/"):
            yield path, view


def _methods(view: Any) -> set[str]:
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    if view_class is None:  # a plain Django view: the API's only one is the GET-only events schema
        return {"get"}
    return {method for method in METHODS if hasattr(view_class, method)}


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


# --- the document ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_schema_validates_without_a_single_warning(tmp_path: Path) -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))

    assert yaml.safe_load((tmp_path / "schema.yaml").read_text())["info"]["title"] == "Wee-Waa API"


@pytest.mark.django_db
def test_the_schema_is_public_and_says_the_same_in_json_and_yaml(schema: dict[str, Any]) -> None:
    response = Client().get("/api/v1/schema/?format=yaml", HTTP_HOST="localhost")

    assert response.status_code == 200
    assert yaml.safe_load(response.content) == schema


@pytest.mark.django_db
def test_the_schema_is_the_same_each_time_it_is_made(schema: dict[str, Any]) -> None:
    """drf-spectacular's hooks edit dicts in place: settings-level parts must survive that."""
    again = Client().get("/api/v1/schema/?format=json", HTTP_HOST="localhost")

    assert json.loads(again.content) == schema


@pytest.mark.django_db
def test_a_language_the_site_does_not_speak_is_refused_in_json() -> None:
    response = Client().get("/api/v1/schema/?lang=xx-nonsense", HTTP_HOST="localhost")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "lang" in response.json()


def test_every_api_url_and_method_is_in_the_schema(schema: dict[str, Any]) -> None:
    expected = {(path, method) for path, view in _api_urls() if path not in NOT_DOCUMENTED for method in _methods(view)}
    documented = {(path, method) for path, method, _operation in _operations(schema)}

    assert expected, "no /api/v1/ URL found: the resolver walk is broken"
    assert expected - documented == set(), "endpoints missing from the schema"
    assert documented - expected == set(), "operations in the schema that no URL serves"


def test_the_schema_describes_both_ways_to_sign_in(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]

    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["cookieAuth"]["in"] == "cookie"
    assert "Authorization: Bearer wwt_" in schema["info"]["description"]
    for path, method, operation in _operations(schema):
        if path != EVENTS_SCHEMA_URL:
            assert {"bearerAuth": []} in operation["security"], (method, path)
            assert {"cookieAuth": []} in operation["security"], (method, path)


def test_every_operation_documents_its_errors_as_json_detail(schema: dict[str, Any]) -> None:
    for path, method, operation in _operations(schema):
        if path == EVENTS_SCHEMA_URL:
            continue
        codes = set(operation["responses"])
        assert {"400", "401", "403"} <= codes, (method, path)  # 400: a NUL anywhere in a request
        if "{" in path:
            assert "404" in codes, (method, path)
        for code in codes - {"400"}:
            if code.startswith("4") or code.startswith("5"):
                body = _resolve(schema, _resolve(schema, operation["responses"][code])["content"]["application/json"])
                assert "detail" in _resolve(schema, body["schema"])["required"], (method, path, code)


def test_a_created_job_links_to_its_reads_and_actions(schema: dict[str, Any]) -> None:
    links = schema["paths"]["/api/v1/jobs/"]["post"]["responses"]["201"]["links"]

    targets = {link["operationId"]: link["parameters"] for link in links.values()}
    operations = {operation["operationId"] for path, _method, operation in _operations(schema) if "{job_id}" in path}
    assert set(targets) == operations and len(operations) == 3
    assert all(parameters == {"job_id": "$response.body#/id"} for parameters in targets.values())
    assert "links" in schema["paths"]["/api/v1/creations/"]["post"]["responses"]["201"]


# --- 429: every operation that can answer it says so --------------------------------------------

# Where a 429 starts: a limit on queued jobs, a per-user rate (gallery/limits.py).
RATE_LIMIT_MARKERS = ("QueueLimitReached(", "TOO_MANY_REQUESTS", "rate_limited(")
SERVICE_MODULES: tuple[ModuleType, ...] = (generation_services, gallery_services, gallery_limits)


def _functions_that_can_refuse_with_429() -> set[str]:
    """Names of the service functions that raise a 429 refusal, or call one that does (a
    fixpoint over the service modules: creation_remix → creation_create → render_rate_check)."""
    functions: dict[str, Callable[..., Any]] = {
        name: function
        for module in SERVICE_MODULES
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__
    }
    sources = {name: inspect.getsource(function) for name, function in functions.items()}
    refusing = {name for name, source in sources.items() if any(marker in source for marker in RATE_LIMIT_MARKERS)}
    while True:
        calling = {
            name
            for name, source in sources.items()
            if name not in refusing and any(re.search(rf"\b{callee}\(", source) for callee in refusing)
        }
        if not calling:
            return refusing
        refusing |= calling


def _can_answer_429(view_class: type[APIView], method: str) -> bool:
    if view_class.throttle_classes or api_settings.DEFAULT_THROTTLE_CLASSES:
        return True
    source = inspect.getsource(getattr(view_class, method))
    if "queue_limit_response" in source:
        return True
    return any(re.search(rf"\b{name}\(", source) for name in _functions_that_can_refuse_with_429())


def test_the_429_finder_finds_the_limits_it_knows_of() -> None:
    refusing = _functions_that_can_refuse_with_429()

    assert {"job_create", "creation_create", "creation_update", "creation_remix", "render_rate_check"} <= refusing
    assert "creation_like" not in refusing


def test_every_operation_that_can_answer_429_documents_it_with_retry_after(schema: dict[str, Any]) -> None:
    checked = []
    for path, view in _api_urls():
        view_class = getattr(view, "view_class", None)
        if path in NOT_DOCUMENTED or view_class is None or not issubclass(view_class, APIView):
            continue
        for method in _methods(view):
            if not _can_answer_429(view_class, method):
                continue
            checked.append((method, path))
            responses = schema["paths"][path][method]["responses"]
            assert "429" in responses, f"{method.upper()} {path} can answer 429 but does not say so"
            too_many = _resolve(schema, responses["429"])
            assert too_many["headers"]["Retry-After"]["schema"]["type"] == "integer"
            assert too_many["content"]["application/json"]["examples"]

    assert ("post", "/api/v1/jobs/") in checked
    assert ("post", "/api/v1/creations/{creation_id}/like/") in checked


# --- examples -------------------------------------------------------------------------------------


def _as_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: ``nullable: true`` becomes "or null"."""
    if isinstance(node, list):
        return [_as_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _as_json_schema(value) for key, value in node.items() if key != "nullable"}
    return {"anyOf": [converted, {"type": "null"}]} if node.get("nullable") else converted


def _examples(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    for path, method, operation in _operations(schema):
        bodies = [("request", operation.get("requestBody", {}))]
        bodies += [(code, _resolve(schema, response)) for code, response in operation["responses"].items()]
        for where, body in bodies:
            media = body.get("content", {}).get("application/json", {})
            for name, example in media.get("examples", {}).items():
                yield f"{method.upper()} {path} {where} {name}", media["schema"], example["value"]


def test_every_example_fits_its_schema(schema: dict[str, Any]) -> None:
    components = _as_json_schema(copy.deepcopy(schema["components"]))
    examples = list(_examples(schema))

    for label, example_schema, value in examples:
        root = {"components": components, "allOf": [_as_json_schema(example_schema)]}
        errors = [error.message for error in jsonschema.Draft7Validator(root).iter_errors(value)]
        assert errors == [], label
    labels = " ".join(label for label, _schema, _value in examples)
    for operation in ("POST /api/v1/jobs/ request", "POST /api/v1/jobs/ 201", "POST /api/v1/jobs/ 429"):
        assert operation in labels


# --- the websocket events and the docs page ---------------------------------------------------------


def test_the_schema_links_the_websocket_events_schema(schema: dict[str, Any]) -> None:
    assert resolve(EVENTS_SCHEMA_URL).url_name == "api-events-schema"
    assert schema["externalDocs"]["url"] == EVENTS_SCHEMA_URL
    assert f"]({EVENTS_SCHEMA_URL})" in schema["info"]["description"]
    assert schema["paths"][EVENTS_SCHEMA_URL]["get"]["security"] == []


@pytest.mark.django_db
def test_the_docs_page_loads_our_own_swagger_ui_under_the_strict_policy() -> None:
    response = Client().get("/api/docs/", HTTP_HOST="localhost")

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "unsafe" not in policy
    html = response.content.decode()
    assert f'href="{EVENTS_SCHEMA_URL}"' in html
    assert 'href="/api/v1/schema/?format=json"' in html
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="/static/([^"]+)"', html)
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in sources
    assert "js/api-docs.js" in sources
    for source in sources:
        assert finders.find(source), f"{source} is not among the static files"
    assert "cdn." not in html and "https://" not in html.split("</header>", 1)[1]
