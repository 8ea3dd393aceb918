"""What the studio page hands its script and its form: translated strings and the API's limits.

The strings were a JSON object typed by hand in the template under ``{% autoescape off %}``:
one translation with a stray character could break the page's script. Here they are a plain
dict that the template writes with ``json_script``, which escapes everything. The msgids and
contexts are the ones the templates used, so the Korean catalogue still matches.

The limits are read from ``JobInputSerializer``, the one place the server enforces them, so the
form's ``maxlength``/``min``/``max`` and its choices cannot drift from what the API accepts.
"""

from __future__ import annotations

from typing import TypedDict

from django.utils.translation import gettext, pgettext
from rest_framework import serializers

from generation.api import SIZE_MULTIPLE, JobInputSerializer

# The square sizes the studio offers (a choice of the page, within what the API accepts).
OFFERED_SIZES = (256, 384, 512, 640, 768, 1024)
DEFAULT_COUNT = 2


class StudioLimits(TypedDict):
    prompt_max: int
    count_min: int
    count_max: int
    steps_min: int
    steps_max: int
    seed_min: int
    seed_max: int
    size_min: int
    size_max: int
    size_multiple: int


def studio_strings() -> dict[str, str]:
    """Every text studio.js, job-card.js, job-preview.js and queue-eta.js show, in the request's language."""
    return {
        "queued": gettext("Waiting in line"),
        "running": gettext("Drawing"),
        "succeeded": gettext("Done"),
        "failed": gettext("Failed"),
        "cancelled": gettext("Cancelled"),
        "step": gettext("Step {step} / {total}"),
        "seed": gettext("Seed {seed}"),
        "candidate": gettext("Candidate {n} of “{prompt}” (seed {seed})"),
        "keep": gettext("Keep"),
        "keeping": gettext("Keeping…"),
        "kept": gettext("Kept ✓"),
        "viewGallery": gettext("See it in the gallery"),
        "keepFailed": gettext("Could not keep this image. Try again."),
        "progress": gettext("Progress"),
        "unknownError": gettext("Something went wrong while drawing."),
        "networkError": gettext("Could not reach the server. Check your connection and try again."),
        "serverError": gettext("The server could not start this job (error {status}). Try again in a moment."),
        "reconnecting": gettext("Reconnecting…"),
        "signedOut": gettext("You are signed out. Reload the page to log in again."),
        "generating": gettext("Sending…"),
        "styleNone": gettext("No style"),
        "noImages": gettext("The job finished without images."),
        "tooMany": gettext("You have too many pictures on the way. Wait for one to finish, then try again."),
        "cancel": pgettext("stop a picture job", "Cancel"),
        "cancelling": gettext("Cancelling…"),
        "cancelFailed": gettext("Could not cancel this job (error {status}). Try again."),
        "placeNext": gettext("Next in line"),
        "placeOne": pgettext("place in the queue; English ordinal for 21, 31…", "{n}st in line"),
        "placeTwo": pgettext("place in the queue; English ordinal for 2, 22, 32…", "{n}nd in line"),
        "placeFew": pgettext("place in the queue; English ordinal for 3, 23, 33…", "{n}rd in line"),
        "placeOther": pgettext("place in the queue; English ordinal for 4, 5, 11, 12…", "{n}th in line"),
        "etaSeconds": pgettext("expected wait before a queued job starts", "about {seconds} s"),
        "etaMinutes": pgettext("expected wait before a queued job starts", "about {minutes} min"),
        "etaNow": pgettext("a queued job is about to start", "any moment now"),
        "etaUnknown": pgettext("the wait of a queued job is not known yet", "Estimating…"),
        "preview": gettext("Preview at step {step}"),
        "edit": pgettext("change a picture with a new prompt", "Edit"),
        "editLabel": gettext("Edit candidate {n}"),
        "maskBrush": gettext("Brush"),
        "maskEraser": gettext("Eraser"),
        "maskAt": gettext("{tool} at {x}% across, {y}% down"),
        "maskEmpty": gettext("Nothing painted: the whole picture may change."),
        "maskPainted": gettext("Only the painted region will change."),
    }


def _bounds(field: serializers.Field[object, object, object, object]) -> tuple[int, int]:
    low, high = getattr(field, "min_value", None), getattr(field, "max_value", None)
    if not isinstance(low, int) or not isinstance(high, int):
        raise TypeError(f"{field!r} has no whole-number bounds for the studio form")
    return low, high


def studio_limits() -> StudioLimits:
    """The bounds ``POST /api/v1/jobs/`` enforces, read from its serializer's fields."""
    fields = JobInputSerializer().fields
    prompt_max = getattr(fields["prompt"], "max_length", None)
    if not isinstance(prompt_max, int):
        raise TypeError("JobInputSerializer.prompt has no max_length for the studio form")
    count_min, count_max = _bounds(fields["count"])
    steps_min, steps_max = _bounds(fields["steps"])
    seed_min, seed_max = _bounds(fields["seed"])
    size_min, size_max = _bounds(fields["width"])
    return {
        "prompt_max": prompt_max,
        "count_min": count_min,
        "count_max": count_max,
        "steps_min": steps_min,
        "steps_max": steps_max,
        "seed_min": seed_min,
        "seed_max": seed_max,
        "size_min": size_min,
        "size_max": size_max,
        "size_multiple": SIZE_MULTIPLE,
    }


def studio_sizes(limits: StudioLimits) -> list[int]:
    """The offered sizes the API accepts: a narrower API range drops the sizes it would refuse."""
    return [
        size
        for size in OFFERED_SIZES
        if limits["size_min"] <= size <= limits["size_max"] and size % limits["size_multiple"] == 0
    ]
