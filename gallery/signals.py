"""Files go with their rows, however the row goes: a service, the admin, or a cascade (a
deleted user takes their jobs, backgrounds, creations and the remixes drawn on them).

Removed only once the deletion is committed: a rolled-back delete keeps its files. A file
that is already gone is no error (``Storage.delete`` ignores a missing name).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from gallery.models import Character, Creation
from generation.models import Background

logger = logging.getLogger(__name__)


def _delete_on_commit(names: list[str]) -> None:
    names = [name for name in names if name]
    if not names:
        return

    def remove() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except Exception:  # a storage hiccup must not turn a finished delete into an error
                logger.exception("Could not delete the file %s", name)

    transaction.on_commit(remove)


@receiver(post_delete, sender=Creation, dispatch_uid="gallery.creation_files")
def _creation_files(sender: Any, instance: Creation, **kwargs: Any) -> None:
    _delete_on_commit([instance.image.name, instance.thumbnail.name])


@receiver(post_delete, sender=Background, dispatch_uid="gallery.background_files")
def _background_files(sender: Any, instance: Background, **kwargs: Any) -> None:
    _delete_on_commit([instance.image.name])


@receiver(post_delete, sender=Character, dispatch_uid="gallery.character_files")
def _character_files(sender: Any, instance: Character, **kwargs: Any) -> None:
    _delete_on_commit([instance.image.name])


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="gallery.user_sockets")
def _user_sockets(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A deleted account's open websockets close too (their session no longer finds a user)."""
    from generation.sockets import close_user_sockets

    user_id = instance.pk
    transaction.on_commit(lambda: close_user_sockets(user_id))
