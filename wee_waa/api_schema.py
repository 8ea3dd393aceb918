"""The API's shared conventions, said once in OpenAPI terms for every endpoint to use.

Each API method is annotated with :func:`api_operation`, naming only what is its own (request,
success answers, examples) and which of the shared errors it can answer; the error bodies,
their examples and the ``Retry-After`` header come from here, so the 429 of the jobs API and
the 429 of likes are documented alike. The shapes themselves are components declared in
``wee_waa.openapi`` (plain data, because settings import it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

F = TypeVar("F", bound=Callable[..., Any])

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}

# Status codes every signed-in endpoint can answer (a NUL anywhere in a request is a 400, even
# in a GET's query: wee_waa/middleware.py); the others an operation names itself.
ALWAYS = (400, 401, 403)
# The statuses that come with a Retry-After header.
RETRY_STATUSES = (429, 503)


def _example(name: str, detail: Any, description: str = "") -> OpenApiExample:
    return OpenApiExample(name, value={"detail": detail}, description=description, response_only=True)


NOT_JSON = OpenApiExample("Not JSON", value={"detail": "The request body is not valid JSON."}, response_only=True)
NUL = OpenApiExample(
    "NUL character",
    value={"detail": "The request contains a NUL character, which is never part of a valid address or form."},
    response_only=True,
)
INVALID_DESCRIPTION = _(
    "Refused input: each refused field with its messages, or `detail` (a body that is not JSON, a NUL "
    "character anywhere in the request)."
)


def invalid_response(example: dict[str, Any]) -> OpenApiResponse:
    """A 400 with an example of this operation's own refusal (its fields, its words)."""
    return OpenApiResponse(
        VALIDATION_ERROR,
        description=INVALID_DESCRIPTION,
        examples=[OpenApiExample("Refused fields", value=example, response_only=True), NOT_JSON],
    )


ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    400: OpenApiResponse(VALIDATION_ERROR, description=INVALID_DESCRIPTION, examples=[NUL]),
    401: OpenApiResponse(
        ERROR,
        description=_("The Authorization header is malformed, or its token unknown, revoked or expired."),
        examples=[_example("Bad token", "This token is not valid, or it was revoked or has expired.")],
    ),
    403: OpenApiResponse(
        ERROR,
        description=_("No credentials at all, or a session request without its CSRF token."),
        examples=[
            _example("Not signed in", "Authentication credentials were not provided."),
            _example("No CSRF token", "CSRF Failed: CSRF token missing."),
        ],
    ),
    404: OpenApiResponse(
        ERROR,
        description=_("Not found, or not yours to see (never a 403: guessing ids tells nothing)."),
        examples=[_example("Not found", "Not found.")],
    ),
    409: OpenApiResponse(
        ERROR,
        description=_("The request conflicts with the current state, for example a full account."),
        examples=[
            _example(
                "Account full",
                "Your account is full: it may store at most 1000 pictures (creations and kept backgrounds "
                "together). Make room in My pictures: delete creations or remove backgrounds you no longer need.",
            )
        ],
    ),
    415: OpenApiResponse(
        ERROR,
        description=_("The body is not in a format this operation reads: send JSON."),
        examples=[_example("Not JSON", "Send the request body as JSON (Content-Type: application/json).")],
    ),
    429: OpenApiResponse(
        ERROR,
        description=_("Over a limit: wait the seconds in `Retry-After`, then try again."),
        examples=[
            _example(
                "Too many unfinished jobs",
                "You already have 10 pictures waiting or being drawn. Wait for one to finish, or cancel one, "
                "then try again.",
            )
        ],
    ),
    503: OpenApiResponse(
        ERROR,
        description=_("The server is busy drawing other pictures: try again after `Retry-After` seconds."),
        examples=[_example("Busy", "The server is busy drawing other pictures. Try again in 5 seconds.")],
    ),
}

RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=list(RETRY_STATUSES),
    description=_("Seconds to wait before trying again."),
)


def api_operation(
    *,
    summary: StrOrPromise,
    responses: dict[int, Any],
    errors: Iterable[int] = (),
    invalid: dict[str, Any] | None = None,
    request: Any = None,
    description: StrOrPromise = "",
    parameters: Sequence[OpenApiParameter] = (),
    examples: Sequence[OpenApiExample] = (),
    operation_id: str | None = None,
) -> Callable[[F], F]:
    """``extend_schema`` with the shared errors filled in: ``errors`` names the statuses this
    method can answer besides its own ``responses`` (an entry there wins, e.g. a 409 with its
    own shape); 400, 401 and 403 are always added, and ``Retry-After`` with any 429 or 503.
    ``invalid`` is an example 400 body for this operation (implies 400)."""
    codes = sorted({*ALWAYS, *errors} - set(responses))
    documented = {**responses, **{code: ERROR_RESPONSES[code] for code in codes}}
    if invalid is not None:
        documented[400] = invalid_response(invalid)
    documented = dict(sorted(documented.items()))
    headers = [RETRY_AFTER] if set(documented) & set(RETRY_STATUSES) else []
    return extend_schema(  # type: ignore[no-any-return]
        summary=summary,
        description=description or None,
        request=request,
        responses=documented,
        parameters=[*parameters, *headers],
        examples=list(examples),
        operation_id=operation_id,
    )


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Personal API tokens (``accounts.authentication``) as the ``bearerAuth`` scheme. Optional:
    until that class exists, the scheme is still declared (``wee_waa.openapi``) but no operation
    lists it."""

    target_class = "accounts.authentication.BearerTokenAuthentication"
    match_subclasses = True
    priority = 1
    optional = True
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "wwt_…",
            "description": str(_("A personal API token: Authorization: Bearer wwt_…")),
        }


# Names of the shared error answers in ``components.responses``.
SHARED_RESPONSE_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    415: "UnsupportedMediaType",
    429: "TooManyRequests",
    503: "Busy",
}


def share_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: each shared error answer is written once under
    ``components.responses`` and referred to, instead of repeated in every operation (a
    tenth of the document's size, and one place to read it). An operation's own variant (a
    400 with its own example, the cancel's 409) stays inline."""
    shared: dict[str, Any] = {}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {}) if isinstance(operation, dict) else {}
            for code, response in list(responses.items()):
                if not code.isdigit() or int(code) not in SHARED_RESPONSE_NAMES:
                    continue
                generic = ERROR_RESPONSES[int(code)]
                if force_str(response.get("description")) != force_str(generic.description):
                    continue
                examples = response.get("content", {}).get("application/json", {}).get("examples", {})
                if [example.get("value") for example in examples.values()] != [
                    example.value for example in generic.examples
                ]:
                    continue
                name = SHARED_RESPONSE_NAMES[int(code)]
                shared.setdefault(name, response)
                responses[code] = {"$ref": f"#/components/responses/{name}"}
    if shared:
        result.setdefault("components", {})["responses"] = dict(sorted(shared.items()))
    return result


def link_created_resources(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: OpenAPI links from each ``POST <list>/`` that answers
    201 with an ``id`` to every operation under ``<list>/{param}/``, so tools (and schemathesis'
    stateful tests) follow a created job or creation to its reads and actions, e.g.
    ``POST /api/v1/jobs/`` → ``GET /api/v1/jobs/{job_id}/`` with ``job_id = $response.body#/id``."""
    paths = result.get("paths", {})
    for collection, item in paths.items():
        created = item.get("post", {}).get("responses", {}).get("201")
        if not created or "$ref" in created:
            continue
        body = created.get("content", {}).get("application/json", {}).get("schema", {})
        if "id" not in _component(result, body).get("properties", {}):
            continue
        links: dict[str, Any] = {}
        for path, operations in paths.items():
            match = re.fullmatch(re.escape(collection) + r"\{(\w+)\}/.*", path)
            if match is None:
                continue
            for method, operation in operations.items():
                if isinstance(operation, dict) and "operationId" in operation:
                    name = "".join(part.capitalize() for part in operation["operationId"].split("_"))
                    links[name] = {
                        "operationId": operation["operationId"],
                        "parameters": {match.group(1): "$response.body#/id"},
                        "description": _("%(method)s %(path)s for the item just created.")
                        % {"method": method.upper(), "path": path},
                    }
        if links:
            created["links"] = links
    return result


def _component(result: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` itself, or the component its ``$ref`` names."""
    ref = schema.get("$ref", "")
    if not ref.startswith("#/components/schemas/"):
        return schema
    return dict(result.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {}))
