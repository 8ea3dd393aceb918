"""``{% picture_chain background %}``: the chain of edits a picture descends from, with
thumbnails, as far back as the viewer may follow it (``generation.edits.chain_for``); and
``{% edit_source as source %}``: the picture the studio's ``?edit=<id>`` names, if the viewer may
edit it. Tags, so the studio and the creation page share them without a view of their own."""

from __future__ import annotations

from typing import Any

from django import template

from gallery.media import media_url
from generation import edits
from generation.models import Background

register = template.Library()


def _user(context: template.Context) -> Any:
    request = context.get("request")
    return getattr(request, "user", None)


@register.inclusion_tag("gallery/includes/picture_chain.html", takes_context=True)
def picture_chain(context: template.Context, background: Background | None, keep: bool = False) -> dict[str, Any]:
    """Nothing for a picture drawn from a prompt alone (a chain of one)."""
    from gallery.selectors import background_visible

    user = _user(context)
    steps = edits.chain_for(background, user) if background is not None else []
    me = getattr(user, "pk", None)
    rows = [
        {
            "step": step,
            # The current step is the page's own picture; its file only if the viewer may fetch it.
            "url": media_url(step.image.image.name)
            if step.image is not None and (not step.current or background_visible(step.image, user))
            else "",
            "mine": step.image is not None and step.image.job.owner_id == me,
            "kept": step.image is not None and step.image.kept_at is not None,
            "strength": edits.strength_words(step.text.get("strength")),
        }
        for step in steps
    ]
    signed_in = bool(getattr(user, "is_authenticated", False))
    return {"rows": rows if len(rows) > 1 else [], "keep": keep, "signed_in": signed_in}


@register.simple_tag(takes_context=True)
def edit_source(context: template.Context) -> dict[str, Any] | None:
    """``{"missing": True}`` when ``?edit=`` names a picture the viewer may not edit."""
    request = context.get("request")
    image_id = request.GET.get("edit", "") if request is not None else ""
    if not image_id:
        return None
    try:
        source = edits.edit_source_for(_user(context), image_id[:64])
    except edits.SourceNotFound:
        return {"missing": True}
    width, height = edits.source_size(source)
    return {
        "missing": False,
        "background": source,
        "id": source.id,
        "url": media_url(source.image.name),
        "width": width,
        "height": height,
        "prompt": source.job.prompt,
        "strength": edits.DEFAULT_STRENGTH,
        "strength_min": edits.STRENGTH_MIN,
        "strength_step": edits.STRENGTH_STEP,
        # For the slider's label: [[upper bound, words], …], lowest first.
        "strength_words": [[bound, str(words)] for bound, words in edits.STRENGTH_WORDS],
    }
