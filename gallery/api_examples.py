"""What the creations API's OpenAPI description (/api/v1/schema/, shown at /api/docs/) needs
beyond the API's own serializers: examples, and the remix body that the view reads by hand.

Kept apart from ``gallery/api.py`` so the API module stays about behaviour; the examples are
checked against their schemas by ``tests/test_openapi.py``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

CREATION_EXAMPLE = OpenApiExample(
    "A private creation",
    response_only=True,
    value={
        "id": "Vx0c3kq7T1mZb8yLr2eN5w",
        "title": "Harbour friends",
        "visibility": "private",
        "moderation": "visible",
        "layers": [{"character": "pJ4sQw9eR2tY6uI1oP3aSd", "x": 0.5, "y": 0.7, "scale": 0.4, "flip": False, "z": 0}],
        "image": "/media/creations/Vx0c3kq7T1mZb8yLr2eN5w-1a2b3c4d.png",
        "thumbnail": "/media/creations/thumbs/Vx0c3kq7T1mZb8yLr2eN5w-1a2b3c4d.webp",
        "width": 512,
        "height": 512,
        "like_count": 0,
        "provenance": {"background": "Hk2j3l4m5n6b7v8c9x0z1a", "prompt": "a quiet harbour at dawn", "seed": 1234567},
        "share_url": "https://wee-waa.example/s/3mJ2kL9pQ8rS7tU6vW5xY4zA1bC0dE9f/",
        "created_at": "2025-01-31T09:45:00Z",
        "updated_at": "2025-01-31T09:45:00Z",
    },
)
CREATION_REQUEST_EXAMPLE = OpenApiExample(
    "One character",
    request_only=True,
    value={
        "background": "Hk2j3l4m5n6b7v8c9x0z1a",
        "layers": [{"character": "pJ4sQw9eR2tY6uI1oP3aSd", "x": 0.5, "y": 0.7, "scale": 0.4}],
        "title": "Harbour friends",
        "visibility": "private",
    },
)


# Documentation only: ``_visible_for_remix`` reads the same field from the body, leniently.
@extend_schema_serializer(component_name="ShareToken")
class ShareTokenSerializer(serializers.Serializer[dict[str, Any]]):
    """Optional: the share link's token, when the picture was shared with you by an unlisted link."""

    token = serializers.CharField(
        required=False, help_text=_("The share link's token, for a picture shared by an unlisted link.")
    )
