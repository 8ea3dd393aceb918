"""Who may see which creation, and which picture file. Every page, API and file URL asks here.

- The owner always sees their own (a hidden one with a note that moderators hid it).
- Everyone else sees a creation only while it is not hidden and its owner is not banned:
  public ones anywhere, unlisted ones through their share link only; private ones never.
  A remix, besides, only while every picture it descends from is public, not hidden and
  its owner not banned: a source that turns private or is taken down takes its remixes along.
- Staff see every creation that is not private, hidden ones included, to moderate them.

Files follow their picture: a creation's picture and thumbnail as the creation; a background
(kept or a candidate) to its job's owner, to staff (the admin shows every job's images), and
to whoever may see a creation drawn on it (the remixer's editor shows the source's
background); a banned owner's backgrounds to staff only; characters to all while active.
"""

from __future__ import annotations

import hmac

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from accounts.models import User
from accounts.types import Viewer, viewer_id
from gallery.models import Character, Creation, ModerationState, Visibility
from generation.models import Background, Style


def _is_staff(user: Viewer) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_staff)


def _is_owner(user: Viewer, creation: Creation) -> bool:
    return bool(user is not None and user.is_authenticated and creation.owner_id == user.pk)


def _not_shown_to_everyone(creations: QuerySet[Creation]) -> QuerySet[Creation]:
    return creations.exclude(visibility=Visibility.PUBLIC, moderation=ModerationState.VISIBLE, owner__is_active=True)


def _lineage_shown() -> Q:
    """No ancestor that others cannot see: one subquery, whatever the depth of the chain."""
    return ~Q(Exists(_not_shown_to_everyone(Creation.objects.filter(descendants=OuterRef("pk")))))


def lineage_shown(creation: Creation) -> bool:
    """True while every picture ``creation`` was remixed from is shown to everyone."""
    return not _not_shown_to_everyone(creation.ancestors.all()).exists()


def creation_visible(creation: Creation, user: Viewer, *, via_share_link: bool = False) -> bool:
    if _is_owner(user, creation):
        return True
    if creation.visibility == Visibility.PRIVATE:
        return False
    if _is_staff(user):
        return True
    if creation.moderation == ModerationState.HIDDEN or not creation.owner.is_active:
        return False
    if creation.visibility != Visibility.PUBLIC and not via_share_link:
        return False
    return lineage_shown(creation)


def creation_visible_with_token(creation: Creation, user: Viewer, token: str | None) -> bool:
    """The share token from a link or a file URL, compared in constant time."""
    via_link = bool(token) and hmac.compare_digest(str(token).encode(), creation.share_token.encode())
    return creation_visible(creation, user, via_share_link=via_link)


def creation_visible_to(user: Viewer, creation_id: str, token: str | None = None) -> Creation | None:
    """The creation ``user`` may see, or ``None`` (unknown id and not allowed look the same:
    guessing ids tells nothing). ``token``: the share token from a link, a form or a file URL.
    Loaded with what its page, the API and a remix read, so none of them queries again."""
    creation = _creation_with_relations().filter(id=creation_id).first()
    if creation is None or not creation_visible_with_token(creation, user, token):
        return None
    return creation


def creation_shared_to(user: Viewer, token: str) -> Creation | None:
    """``/s/<token>/``: the creation behind a share link, if ``user`` may see it through it."""
    creation = _creation_with_relations().filter(share_token=token).first()
    if creation is None or not creation_visible_with_token(creation, user, token):
        return None
    return creation


def creation_owned_by(user: Viewer, creation_id: str) -> Creation | None:
    """For the owner's writes (edit, delete, renew the link): nobody else's, whatever they see."""
    if user is None or not user.is_authenticated:
        return None
    return _creation_with_relations().filter(id=creation_id, owner_id=user.pk).first()


def _creation_with_relations() -> QuerySet[Creation]:
    return Creation.objects.select_related("owner", "background__job__style", "remixed_from__owner")


def creations_shown_to_everyone() -> QuerySet[Creation]:
    return Creation.objects.filter(
        Q(visibility=Visibility.PUBLIC, moderation=ModerationState.VISIBLE, owner__is_active=True) & _lineage_shown()
    )


def creations_visible_to(user: Viewer) -> QuerySet[Creation]:
    """``creation_visible`` as a query (without share links), for lists and file checks."""
    rule = Q(visibility=Visibility.PUBLIC, moderation=ModerationState.VISIBLE, owner__is_active=True) & _lineage_shown()
    if user is not None and user.is_authenticated:
        rule |= Q(owner_id=user.pk)
        if user.is_staff:
            rule |= ~Q(visibility=Visibility.PRIVATE)
    return Creation.objects.filter(rule)


def creations_public() -> QuerySet[Creation]:
    """What /explore/ and profiles list: public, not hidden, owner not banned, lineage shown."""
    return creations_shown_to_everyone().select_related("owner", "background")


def creations_of(owner: User, viewer: Viewer) -> QuerySet[Creation]:
    """A profile's list: everything to its owner, the public ones to everybody else."""
    if _is_owner(viewer, Creation(owner_id=owner.pk)):
        return Creation.objects.filter(owner=owner).select_related("owner", "background")
    return creations_public().filter(owner=owner)


# ---- My pictures (the owner's own page) ----------------------------------------------------


def creations_owned(owner: Viewer, *, visibility: str = "", search: str = "") -> QuerySet[Creation]:
    """Every creation of ``owner``'s, whatever its visibility, hidden ones included (the owner
    always sees their own); only ``visibility`` ones when given; ``search`` matched in any case
    against the title and the background's prompt, as the provenance kept it when the picture
    was made (it outlives the job)."""
    creations = Creation.objects.filter(owner_id=viewer_id(owner)).select_related("background")
    if visibility:
        creations = creations.filter(visibility=visibility)
    if search:
        creations = creations.filter(Q(title__icontains=search) | Q(provenance__prompt__icontains=search))
    return creations


def pictures_chosen(
    owner: Viewer, *, background_ids: list[str], creation_ids: list[str]
) -> tuple[list[Background], list[Creation]]:
    """What a "delete these" form names that is ``owner``'s: kept backgrounds (each with
    ``creation_count``, the owner's creations drawn on it) and creations. Other people's ids
    and ids already gone are left out, saying nothing about whose they are."""
    from generation.selectors import backgrounds_kept

    mine = Count("creations", filter=Q(creations__owner_id=viewer_id(owner)))
    backgrounds: list[Background] = list(
        backgrounds_kept(owner).filter(id__in=background_ids).annotate(creation_count=mine)
    )
    creations = list(creations_owned(owner).filter(id__in=creation_ids).order_by("-created_at", "-id"))
    return backgrounds, creations


# ---- Picture files -------------------------------------------------------------------------

MediaObject = Background | Creation | Character | Style


def media_object(name: str) -> MediaObject | None:
    """The row a stored file belongs to, by its name; ``None`` for a name no row has (a
    leftover, a guess, a traversal attempt: none of them is served)."""
    folder, _, rest = name.partition("/")
    if folder == "backgrounds":
        job_id = rest.partition("/")[0]  # backgrounds/<job>/<id>.png: the job's index finds it
        return Background.objects.select_related("job__owner").filter(job_id=job_id, image=name).first()
    if folder == "creations":
        return Creation.objects.select_related("owner").filter(Q(image=name) | Q(thumbnail=name)).first()
    if folder == "characters":
        return Character.objects.filter(image=name).first()
    if folder == "styles" and rest.startswith("previews/"):  # adapters and training pictures: never
        return Style.objects.filter(preview=name).first()
    return None


def background_visible(background: Background, user: Viewer) -> bool:
    if _is_staff(user):
        return True
    owner = background.job.owner
    if not owner.is_active:
        return False
    if user is not None and user.is_authenticated and owner.pk == user.pk:
        return True
    return creations_visible_to(user).filter(background=background).exists()


def media_visible(item: MediaObject, user: Viewer, *, token: str | None = None) -> bool:
    """May ``user`` (anonymous: ``None`` or AnonymousUser) fetch this file? A share token opens
    the files of its own creation only."""
    if isinstance(item, Character | Style):  # a disabled style's preview is for staff to judge
        return item.is_active or _is_staff(user)
    if isinstance(item, Creation):
        return creation_visible_with_token(item, user, token)
    return background_visible(item, user)
