"""Writes of gallery data: creations are rendered here, on the server, from their layers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image

from accounts.types import User
from gallery import limits, selectors
from gallery.compositing import (
    WORKING_HEIGHT,
    Layer,
    cut_outs,
    parse_layers,
    png_bytes,
    render,
    thumbnail_webp,
    upright,
)
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
from generation.events import JobStatus
from generation.models import Background, GenerationJob
from wee_waa.converters import PublicIdConverter
from wee_waa.ids import new_public_id


def _open_character(name: str) -> Image.Image:
    """Decoded and turned upright (EXIF: phones store photos sideways and say so)."""
    with default_storage.open(name, "rb") as stored, Image.open(stored) as image:
        # A big JPEG decodes at 1/2 to 1/8 size for free; the cut-out is kept small anyway.
        image.draft(None, (WORKING_HEIGHT, WORKING_HEIGHT))
        return upright(image).convert("RGBA")


def _open_background(name: str) -> Image.Image:
    """Refused by its header, before decoding, when past ``WEE_WAA_MAX_RENDER_PIXELS``."""
    most = settings.WEE_WAA_MAX_RENDER_PIXELS
    with default_storage.open(name, "rb") as stored, Image.open(stored) as image:
        if image.width * image.height > most:
            raise ValidationError(
                _("This background is too large to draw on: at most %(pixels)s pixels.") % {"pixels": f"{most:,}"},
                code="too_many_pixels",
            )
        return upright(image).convert("RGBA")


def creation_render(*, background: Background, layers: list[Layer]) -> Image.Image:
    """Cut-outs come from a per-process cache (decoded, upright and scaled down once)."""
    characters = {
        # Keyed by id and file name: a new upload is a new name, a new character a new id.
        character.id: cut_outs.get(
            f"{character.id}:{character.image.name}", partial(_open_character, character.image.name)
        )
        for character in Character.objects.filter(id__in={layer.character for layer in layers})
    }
    return render(_open_background(background.image.name), layers, characters)


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
    """Render and write the files; returns their names so a failed save can remove them.
    Only a few renders run at once (``limits.render_slot``); the others wait, then get a 503."""
    with limits.render_slot():
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
    owner: User,
    background: Background,
    layers: Any,
    title: str = "",
    visibility: str = Visibility.PRIVATE,
    remixed_from: Creation | None = None,
) -> Creation:
    """Validate, render, write files, then the row; a failure leaves neither behind.
    A full account (409) and a user drawing too fast (429) are refused before any work."""
    parsed = parse_layers(layers, Character.objects.filter(is_active=True).values_list("id", flat=True))
    limits.picture_quota_check(user_id=owner.pk)
    limits.render_rate_check(user_id=owner.pk)
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


def remix_credit(source: Creation) -> dict[str, Any]:
    """What a remix keeps of its source, so the credit survives the source's edits or deletion."""
    return {"remix_of": source.id, "remix_of_title": source.title, "remix_of_author": source.owner.get_username()}


def creation_remix(*, owner: User, source: Creation) -> Creation:
    """Same background and layers, the caller's own private copy, linked to its source (and
    all the source's own sources) and crediting its author. Characters retired since are left
    out rather than refusing the remix.

    A hidden picture, or one made from a hidden one, is not remixed, not even by its owner:
    copying must not undo a takedown. Whether the copy may ever be shown to others is the
    selector's business: only while every picture it comes from is public.
    """
    lineage = [source, *source.ancestors.all()]
    if any(creation.moderation == ModerationState.HIDDEN for creation in lineage):
        raise ValidationError(_("Moderators hid this picture, so it cannot be remixed."), code="hidden")
    active = set(Character.objects.filter(is_active=True).values_list("id", flat=True))
    layers = [layer for layer in source.layers if isinstance(layer, dict) and layer.get("character") in active]
    remix = creation_create(
        owner=owner, background=source.background, layers=layers, title=source.title, remixed_from=source
    )
    try:
        with transaction.atomic():
            remix.provenance = {**remix.provenance, **remix_credit(source)}
            remix.save(update_fields=["provenance"])
            remix.ancestors.set(lineage)
    except BaseException:
        creation_delete(creation=remix)  # a remix without its lineage could be published
        raise
    return remix


def creation_update(*, creation: Creation, layers: Any | None = None, title: str | None = None) -> Creation:
    """Editing the layers renders the picture again; the old files go once the row points at
    the new ones."""
    if title is not None:
        creation.title = title.strip()
    if layers is None:
        creation.save(update_fields=["title", "updated_at"])
        return creation
    parsed = parse_layers(layers, Character.objects.filter(is_active=True).values_list("id", flat=True))
    limits.render_rate_check(user_id=creation.owner_id)
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
    """A remix is shared only while what it was made from is public: a picture someone shared
    by an unlisted link, or a private one, is never republished through a copy."""
    if visibility not in Visibility.values:
        raise ValidationError(_("Choose private, unlisted or public."))
    if visibility != Visibility.PRIVATE and not selectors.lineage_shown(creation):
        raise ValidationError(
            _(
                "This picture is a remix of one that is not public, so it stays private. "
                "It can be shared once the original is public."
            ),
            code="source_not_public",
        )
    creation.visibility = visibility
    creation.save(update_fields=["visibility", "updated_at"])
    return creation


def creation_like(*, user: User, creation: Creation, liked: bool) -> int:
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
    """Hide (take down) or restore; reports on it are resolved; the log keeps who and when.

    A takedown reaches the remixes made from the picture (at any depth): those still shown are
    hidden with it, each with its own log entry. Restoring the picture restores exactly those,
    not remixes moderators hid for reasons of their own. (Audit notes are stored in English,
    like log lines: a record must not change language with the moderator who wrote it.)
    """
    now = timezone.now()
    action = "hide" if hide else "restore"
    with transaction.atomic():
        creation.moderation = ModerationState.HIDDEN if hide else ModerationState.VISIBLE
        creation.hidden_with = None
        creation.save(update_fields=["moderation", "hidden_with", "updated_at"])
        creation.reports.filter(resolved_at__isnull=True).update(resolved_at=now)
        if hide:
            remixes = list(Creation.objects.filter(ancestors=creation, moderation=ModerationState.VISIBLE))
        else:
            remixes = list(Creation.objects.filter(hidden_with=creation, moderation=ModerationState.HIDDEN))
        for remix in remixes:
            remix.moderation = creation.moderation
            remix.hidden_with = creation if hide else None
            remix.save(update_fields=["moderation", "hidden_with", "updated_at"])
        ModerationLog.objects.bulk_create(
            [
                ModerationLog(
                    actor=actor,
                    action=action,
                    creation=remix,
                    note=f"Remix of {creation.id}: {'hidden' if hide else 'restored'} with it.",
                )
                for remix in remixes
            ]
        )
        cascade = f"{len(remixes)} remix(es) {'hidden' if hide else 'restored'} with it." if remixes else ""
        ModerationLog.objects.create(
            actor=actor, action=action, creation=creation, note=" ".join(part for part in (note, cascade) if part)
        )
    return creation


def user_ban(*, actor: User, user: User, banned: bool = True, note: str = "") -> None:
    """A banned user cannot log in, their pictures (and the remixes made of them) and files
    disappear for everyone but staff, their unfinished jobs are cancelled and their open
    websockets closed; the log says which. Unbanning gives the account back, not the jobs."""
    # Imported here: generation's services pull in the runtime and metrics, and the sockets
    # module is the websocket layer's; the gallery needs neither until someone is banned.
    from generation.services import JobAlreadyFinished, job_cancel
    from generation.sockets import close_user_sockets

    cancelled: list[str] = []
    with transaction.atomic():
        user.is_active = not banned
        user.save(update_fields=["is_active"])
        if banned:
            unfinished = GenerationJob.objects.filter(owner=user, status__in=[JobStatus.QUEUED, JobStatus.RUNNING])
            for job in unfinished.order_by("created_at", "id"):
                try:
                    job_cancel(job=job)
                except JobAlreadyFinished:
                    continue  # it finished meanwhile: nothing to stop
                cancelled.append(job.id)
            # After the commit, so a reconnect already finds the account inactive.
            transaction.on_commit(lambda: close_user_sockets(user.pk))
            done = f"Cancelled {len(cancelled)} unfinished job(s); closed open websockets."
        else:
            done = ""
        ModerationLog.objects.create(
            actor=actor,
            action="ban" if banned else "unban",
            target_user=user,
            note=" ".join(part for part in (note, done) if part),
        )


def creation_delete(*, creation: Creation) -> None:
    """The row first; the files once the deletion is committed (``gallery.signals``, which also
    covers admin deletions and cascades), so a rollback keeps both."""
    with transaction.atomic():
        creation.delete()


# ---- My pictures: deleting several at once ------------------------------------------------

# One form post deletes at most this many pictures. A page shows 12; the cap keeps a forged
# post with thousands of ids from turning into one huge query.
MAX_PICTURES_PER_DELETE = 100
_PUBLIC_ID = re.compile(PublicIdConverter.regex)


@dataclass(frozen=True)
class PicturesDeleted:
    backgrounds: int  # taken out of the gallery (no longer kept)
    creations: int  # deleted, files and all

    @property
    def total(self) -> int:
        return self.backgrounds + self.creations


def pictures_selection_check(
    *, background_ids: Iterable[str], creation_ids: Iterable[str]
) -> tuple[list[str], list[str]]:
    """The ids of a "delete these" form, deduplicated in their order, or a ``ValidationError``
    in words: nothing chosen, too many, or something that cannot be one of our ids (the form
    only ever sends ids, so anything else was typed or forged; PostgreSQL refuses NUL in text,
    so no such string reaches a query)."""
    backgrounds, creations = list(dict.fromkeys(background_ids)), list(dict.fromkeys(creation_ids))
    count = len(backgrounds) + len(creations)
    if count == 0:
        raise ValidationError(_("Choose at least one picture to delete."), code="nothing_chosen")
    if count > MAX_PICTURES_PER_DELETE:
        raise ValidationError(
            ngettext(
                "You can delete at most %(limit)d picture at a time.",
                "You can delete at most %(limit)d pictures at a time.",
                MAX_PICTURES_PER_DELETE,
            )
            % {"limit": MAX_PICTURES_PER_DELETE},
            code="too_many",
        )
    if not all(isinstance(id_, str) and _PUBLIC_ID.fullmatch(id_) for id_ in [*backgrounds, *creations]):
        raise ValidationError(_("That list of pictures is not valid. Go back and choose again."), code="invalid")
    return backgrounds, creations


def pictures_delete(*, owner: User, background_ids: Iterable[str], creation_ids: Iterable[str]) -> PicturesDeleted:
    """Delete several of ``owner``'s pictures at once; ids of other people's pictures, or of
    pictures already gone, are passed over (the answer must not tell whose an id is).

    A background is *un-kept*, not deleted: it leaves the gallery and stops counting towards
    the picture quota (``limits.stored_pictures`` counts kept ones), and stays with its job in
    the studio, where it can be kept again. Deleting its row would cascade
    (``Creation.background``) to every creation drawn on it, other people's remixes of the
    owner's creations included, which share the source's background.

    Creations are deleted; their files go once the deletion is committed (``gallery.signals``),
    so a rollback keeps both, as ``creation_delete`` does for one."""
    backgrounds, creations = pictures_selection_check(background_ids=background_ids, creation_ids=creation_ids)
    with transaction.atomic():
        kept = Background.objects.filter(id__in=backgrounds, job__owner_id=owner.pk, kept_at__isnull=False)
        unkept = kept.update(kept_at=None)
        _total, per_model = Creation.objects.filter(id__in=creations, owner_id=owner.pk).delete()
    return PicturesDeleted(backgrounds=unkept, creations=per_model.get(Creation._meta.label, 0))
