"""Writes of gallery data: creations are rendered here, on the server, from their layers."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from gallery.compositing import Layer, parse_layers, png_bytes, render, thumbnail_webp
from gallery.models import (
    Character,
    Creation,
    Like,
    ModerationLog,
    ModerationState,
    Report,
    Visibility,
    new_share_token,
)
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


def creation_remix(*, owner: Any, source: Creation) -> Creation:
    """Same background and layers, the caller's own (private) copy, linked to its source.
    Characters retired since are left out rather than refusing the remix."""
    active = set(Character.objects.filter(is_active=True).values_list("id", flat=True))
    layers = [layer for layer in source.layers if isinstance(layer, dict) and layer.get("character") in active]
    title = source.title
    return creation_create(owner=owner, background=source.background, layers=layers, title=title, remixed_from=source)


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


def creation_share_link_renew(*, creation: Creation) -> Creation:
    """Revoke the current link (it answers 404 from now on) and make a new one."""
    creation.share_token = new_share_token()
    creation.save(update_fields=["share_token", "updated_at"])
    return creation


def creation_visibility_set(*, creation: Creation, visibility: str) -> Creation:
    if visibility not in Visibility.values:
        raise ValidationError(_("Choose private, unlisted or public."))
    creation.visibility = visibility
    creation.save(update_fields=["visibility", "updated_at"])
    return creation


def creation_like(*, user: Any, creation: Creation, liked: bool) -> int:
    """Idempotent: liking twice counts once. Returns the new count."""
    with transaction.atomic():
        if liked:
            _like, created = Like.objects.get_or_create(user=user, creation=creation)
            change = 1 if created else 0
        else:
            change = -Like.objects.filter(user=user, creation=creation).delete()[0]
        if change:
            Creation.objects.filter(id=creation.id).update(like_count=F("like_count") + change)
    creation.refresh_from_db(fields=["like_count"])
    return creation.like_count


def creation_report(*, reporter: Any, creation: Creation, reason: str) -> Report:
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say what is wrong with this picture."))
    return Report.objects.create(reporter=reporter, creation=creation, reason=reason[:1000])


def creation_moderate(*, actor: Any, creation: Creation, hide: bool, note: str = "") -> Creation:
    """Hide (take down) or restore; reports on it are resolved; the log keeps who and when."""
    now = timezone.now()
    with transaction.atomic():
        creation.moderation = ModerationState.HIDDEN if hide else ModerationState.VISIBLE
        creation.save(update_fields=["moderation", "updated_at"])
        creation.reports.filter(resolved_at__isnull=True).update(resolved_at=now)
        ModerationLog.objects.create(actor=actor, action="hide" if hide else "restore", creation=creation, note=note)
    return creation


def user_ban(*, actor: Any, user: Any, banned: bool = True, note: str = "") -> None:
    """A banned user cannot log in, and their public creations disappear from every page."""
    with transaction.atomic():
        user.is_active = not banned
        user.save(update_fields=["is_active"])
        ModerationLog.objects.create(actor=actor, action="ban" if banned else "unban", target_user=user, note=note)


def creation_delete(*, creation: Creation) -> None:
    """The row first; the files once the deletion is committed, so a rollback keeps both."""
    names = [name for name in (creation.image.name, creation.thumbnail.name) if name]

    def remove_files() -> None:
        for name in names:
            default_storage.delete(name)

    with transaction.atomic():
        creation.delete()
        transaction.on_commit(remove_files)
