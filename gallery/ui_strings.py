"""What the creation and compose pages hand their scripts and forms: strings and the server's limits.

The strings were JSON typed by hand in the templates under ``{% autoescape off %}``; here they
are plain dicts that the templates write with ``json_script``, which escapes everything. The
msgids are the templates' old ones, so the Korean catalogue still matches.

Limits come from where the server enforces them (the API's serializers, ``gallery.compositing``
and ``WEE_WAA_MAX_LAYERS``), read on each request, so the forms cannot drift from the API.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import serializers

from gallery.api import CreationCreateApi, CreationReportApi
from gallery.compositing import MAX_SCALE, MIN_SCALE


class ComposerLimits(TypedDict):
    """Keys in the script's spelling: compose.js hands this object to its LayerStack as is."""

    maxLayers: int
    minScale: float
    maxScale: float


def _max_length(serializer: type[serializers.Serializer[Any]], name: str) -> int:
    value = getattr(serializer().fields[name], "max_length", None)
    if not isinstance(value, int):
        raise TypeError(f"{serializer.__name__}.{name} has no max_length for the page")
    return value


def creation_strings() -> dict[str, str]:
    """The texts creation.js shows, in the request's language."""
    return {
        "remixing": gettext("Copying…"),
        "queueing": gettext("Sending…"),
        "saved": gettext("Saved."),
        "copied": gettext("Link copied."),
        "copyFailed": gettext("Could not copy. Select the link and copy it by hand."),
        "renewed": gettext("The old link no longer works. Here is the new one."),
        "confirmRevoke": gettext("The old link will stop working for everyone who has it. Make a new link?"),
        "confirmDelete": gettext("Delete this picture? This cannot be undone."),
        "networkError": gettext("Could not reach the server. Check your connection and try again."),
        "serverError": gettext("Something went wrong (error {status}). Try again in a moment."),
    }


def report_reason_max() -> int:
    """The report form's ``maxlength``: what ``POST …/report/`` accepts."""
    return _max_length(CreationReportApi.InputSerializer, "reason")


def composer_strings() -> dict[str, str]:
    """The texts compose.js shows, in the request's language."""
    return {
        "save": gettext("Save"),
        "saving": gettext("Saving…"),
        "noCharacters": gettext("No characters are available yet."),
        "charactersFailed": gettext("Could not load the characters. Reload the page to try again."),
        "add": gettext("Add {name}"),
        "added": gettext("{name} added."),
        "removed": gettext("{name} removed."),
        "undone": gettext("Undone."),
        "networkError": gettext("Could not reach the server. Check your connection and try again."),
        "serverError": gettext("The server could not save this picture (error {status}). Try again in a moment."),
        "signedOut": gettext("You are signed out. Reload the page to log in again."),
        # The server's own refusal (gallery.compositing.layer_count_check), said before saving.
        "tooManyLayers": gettext("At most %(max)d characters fit in one picture.")
        % {"max": settings.WEE_WAA_MAX_LAYERS},
    }


def composer_limits() -> ComposerLimits:
    """What compose.js enforces while editing: the same bounds the server renders with."""
    return {"maxLayers": settings.WEE_WAA_MAX_LAYERS, "minScale": MIN_SCALE, "maxScale": MAX_SCALE}


def title_max() -> int:
    """The title field's ``maxlength``: what saving a creation accepts."""
    return _max_length(CreationCreateApi.InputSerializer, "title")


def composer_context() -> dict[str, object]:
    """What compose.html needs besides the background and the creation (new and edit alike)."""
    return {"composer_strings": composer_strings(), "composer_limits": composer_limits(), "title_max": title_max()}
