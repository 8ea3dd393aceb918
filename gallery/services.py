"""Writes of gallery data: creations are rendered here, on the server, from their layers."""

from __future__ import annotations

from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from PIL import Image

from gallery.compositing import Layer, parse_layers, png_bytes, render, thumbnail_webp
from gallery.models import Character, Creation, Visibility
from generation.models import Background
from wee_waa.ids import new_public_id


def _open_rgba(name: str) -> Image.Image:
    with default_storage.open(name, "rb") as stored, Image.open(stored) as image:
        return image.convert("RGBA")


def creation_render(*, background: Background, layers: list[Layer]) -> Image.Image:
    characters = {
        character.id: _open_rgba(character.image.name)
        for character in Character.objects.filter(id__in={layer.character for layer in layers})
    }
    return render(_open_rgba(background.image.name), layers, characters)


def provenance_of(background: Background) -> dict[str, Any]:
    job = background.job
    return {
        "background": background.id,
        "prompt": job.prompt,
        "seed": background.seed,
        "style": job.style.name if job.style else None,
        "model": job.model_name,
        "job": job.id,
    }


def _save_render(creation: Creation, layers: list[Layer]) -> list[str]:
    """Render and write the files; returns their names so a failed save can remove them."""
    picture = creation_render(background=creation.background, layers=layers)
    stem = f"{creation.id}-{new_public_id()[:8]}"  # a new name per render: caches never go stale
    image = default_storage.save(f"creations/{stem}.png", ContentFile(png_bytes(picture)))
    thumb = default_storage.save(f"creations/thumbs/{stem}.webp", ContentFile(thumbnail_webp(picture)))
    creation.image.name, creation.thumbnail.name = image, thumb
    creation.width, creation.height = picture.size
    creation.layers = [layer.as_json() for layer in layers]
    return [image, thumb]


def creation_create(
    *,
    owner: Any,
    background: Background,
    layers: Any,
    title: str = "",
    visibility: str = Visibility.PRIVATE,
    remixed_from: Creation | None = None,
) -> Creation:
    """Validate, render, write files, then the row; a failure leaves neither behind."""
    parsed = parse_layers(layers, Character.objects.filter(is_active=True).values_list("id", flat=True))
    creation = Creation(
        owner=owner,
        background=background,
        title=title.strip(),
        visibility=visibility,
        remixed_from=remixed_from,
        provenance={**provenance_of(background), **({"remix_of": remixed_from.id} if remixed_from else {})},
    )
    written = _save_render(creation, parsed)
    try:
        with transaction.atomic():
            creation.save()
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise
    return creation


def creation_update(*, creation: Creation, layers: Any | None = None, title: str | None = None) -> Creation:
    """Editing the layers renders the picture again; the old files go once the row points at
    the new ones."""
    if title is not None:
        creation.title = title.strip()
    if layers is None:
        creation.save(update_fields=["title", "updated_at"])
        return creation
    parsed = parse_layers(layers, Character.objects.filter(is_active=True).values_list("id", flat=True))
    old = [creation.image.name, creation.thumbnail.name]
    written = _save_render(creation, parsed)
    try:
        with transaction.atomic():
            creation.save()
    except BaseException:
        for name in written:
            default_storage.delete(name)
        raise
    for name in old:
        if name:
            default_storage.delete(name)
    return creation
