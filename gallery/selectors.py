"""Who may see which creation. Every page and API that shows a creation asks here.

- The owner always sees their own (a hidden one with a note that moderators hid it).
- Everyone else sees a creation only while it is not hidden and its owner is not banned:
  public ones anywhere, unlisted ones through their share link only; private ones never.
- Staff see every creation that is not private, hidden ones included, to moderate them.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from gallery.models import Creation, ModerationState, Visibility


def _is_staff(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_staff)


def _is_owner(user: Any, creation: Creation) -> bool:
    return bool(user is not None and user.is_authenticated and creation.owner_id == user.pk)


def creation_visible(creation: Creation, user: Any, *, via_share_link: bool = False) -> bool:
    if _is_owner(user, creation):
        return True
    if creation.visibility == Visibility.PRIVATE:
        return False
    if _is_staff(user):
        return True
    if creation.moderation == ModerationState.HIDDEN or not creation.owner.is_active:
        return False
    return creation.visibility == Visibility.PUBLIC or via_share_link


def creations_public() -> QuerySet[Creation]:
    """What /explore/ and profiles list: public, not hidden, owner not banned."""
    return Creation.objects.filter(
        visibility=Visibility.PUBLIC, moderation=ModerationState.VISIBLE, owner__is_active=True
    ).select_related("owner", "background")


def creations_of(owner: Any, viewer: Any) -> QuerySet[Creation]:
    """A profile's list: everything to its owner, the public ones to everybody else."""
    if _is_owner(viewer, Creation(owner_id=owner.pk)):
        return Creation.objects.filter(owner=owner).select_related("owner", "background")
    return creations_public().filter(owner=owner)


def creation_by_token(token: str) -> Creation | None:
    return Creation.objects.select_related("owner", "background__job").filter(share_token=token).first()
