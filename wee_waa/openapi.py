"""drf-spectacular's settings: what the OpenAPI document says about the API as a whole.

Imported by ``settings.py``, so plain data only (no DRF imports, which would need settings).
The error shapes live here as components because every endpoint shares them and they are
not serializers (a 400 maps any field name to its messages); ``wee_waa.api_schema`` refers
to them. Served at ``/api/v1/schema/`` and shown at ``/api/docs/`` (``wee_waa.api_docs``).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

EVENTS_SCHEMA_URL = "/api/v1/events/schema.json"
DOCS_URL = "/api/docs/"

DESCRIPTION = _(
    """The Wee-Waa studio as an API: queue pictures, follow them, keep the ones you like and compose
creations with characters on them.

## Signing in

- **Programs** send a personal API token (`bearerAuth`): `Authorization: Bearer wwt_…`. Make one
  at [/accounts/tokens/](/accounts/tokens/) while signed in; it is shown once. Token requests need
  no CSRF token.
- **The browser** uses the session cookie of a signed-in person (`cookieAuth`); requests that
  change something must also send the CSRF token in the `X-CSRFToken` header.

A request with neither is answered `403`; a token that is unknown, revoked or expired, `401`.

## Errors

Every error is JSON. `400` names each field that was refused with a list of messages
(`{"prompt": ["…"]}`; a problem that belongs to no field is under `detail`); `401`, `403`
and `404` answer `{"detail": "…"}`. Something the caller may not see is `404`, never `403`.
`409` says why the request conflicts with the current state.

## Limits

Queuing pictures, drawing creations, likes and reports are rate-limited. Over a limit the answer is
`429` with a `Retry-After` header (seconds) and a `detail` that says why; wait that long before
trying again. `503` with `Retry-After` means the server is busy drawing.

## Lists

Lists page with signed cursors: follow the `next` and `previous` links as they are;
`page_size` asks for up to 100 items.

## Live events

Progress is pushed over the websocket `/ws/generation/`. Its messages are described by a JSON
Schema served at [/api/v1/events/schema.json](/api/v1/events/schema.json). The websocket is a
notification: after a reconnect, ask the jobs API for the state.
"""
)

# Shared error bodies, referenced as {"$ref": "#/components/schemas/<name>"}. No enums in here:
# drf-spectacular's enum hook rewrites these dicts in place, so a second generation would refer
# to an enum component it no longer makes (``tests/test_openapi.py`` generates twice).
ERROR_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "description": _("An error for people to read: 401, 403, 404, 409, 429, 503."),
        "required": ["detail"],
        "properties": {"detail": {"type": "string"}},
    },
    "ValidationError": {
        "type": "object",
        "description": _(
            "A 400: each refused field with a list of messages (nested for the items of a list, "
            "such as a creation's layers); a problem with no field, or a body that is not JSON, is "
            "under `detail`."
        ),
        "properties": {
            "detail": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        },
        "additionalProperties": {
            "oneOf": [
                {"type": "array", "items": {}},
                {"type": "object", "additionalProperties": {}},
                {"type": "string"},
            ]
        },
    },
}

EVENTS_SCHEMA_PATH: dict[str, Any] = {
    "get": {
        "operationId": "events_schema",
        "summary": _("The websocket events' JSON Schema"),
        "description": _(
            "What `/ws/generation/` sends: a JSON Schema (draft 2020-12) generated from the same "
            "definitions the server builds its messages from. Public; needs no sign-in."
        ),
        "tags": ["events"],
        "security": [],
        "responses": {
            "200": {
                "description": _("A JSON Schema document (`oneOf` the event types, each under `$defs`)."),
                "content": {"application/json": {"schema": {"type": "object", "additionalProperties": {}}}},
            }
        },
    }
}

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "Wee-Waa API",
    "VERSION": "1.0.0",
    "DESCRIPTION": DESCRIPTION,
    "SERVERS": [{"url": "/", "description": _("This server")}],
    "EXTERNAL_DOCS": {"description": _("Websocket events (JSON Schema)"), "url": EVENTS_SCHEMA_URL},
    "TAGS": [
        {"name": "jobs", "description": _("Queue pictures, follow them, cancel them and keep candidates.")},
        {"name": "creations", "description": _("Kept backgrounds with characters on them: draw, share, remix.")},
        {"name": "characters", "description": _("The cut-outs a creation can place.")},
        {"name": "events", "description": _("The websocket's messages.")},
    ],
    # Tags come from the segment after the version: jobs, creations, characters.
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request and response components apart: what a client sends is not what it reads back.
    "COMPONENT_SPLIT_REQUEST": True,
    # Fixed names: the generator would otherwise name them after whichever field it met first.
    "ENUM_NAME_OVERRIDES": {
        "VisibilityEnum": "gallery.models.Visibility",
        "ModerationEnum": "gallery.models.ModerationState",
        "JobStatusEnum": "generation.events.JobStatus",
        "FinishedJobStatusEnum": "generation.api_examples.FINISHED_STATUSES",
    },
    "APPEND_COMPONENTS": {
        "schemas": ERROR_SCHEMAS,
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "wwt_…",
                "description": _("A personal API token: Authorization: Bearer wwt_…"),
            }
        },
    },
    "APPEND_PATHS": {EVENTS_SCHEMA_URL: EVENTS_SCHEMA_PATH},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "wee_waa.api_schema.share_error_responses",
        "wee_waa.api_schema.link_created_resources",
    ],
    # Swagger UI from our own static files (drf-spectacular-sidecar): the CSP allows no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {
        "deepLinking": True,
        "persistAuthorization": False,  # a token typed into the page is not kept in localStorage
        "displayRequestDuration": True,
        "defaultModelsExpandDepth": 0,
        "tryItOutEnabled": False,
        "validatorUrl": None,  # no badge fetched from validator.swagger.io
    },
}
