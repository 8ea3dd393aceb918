from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from wee_waa.confusables import fold

SKELETON_MAX_LENGTH = 255


def username_skeleton(username: str) -> str:
    """What a username looks like (:func:`wee_waa.confusables.fold`): ``admin`` with a Cyrillic
    a (U+0430) and ``AdMin`` both give ``admln``. Folding can lengthen a name (NFKC expands some letters up
    to 18 times), so a very long skeleton keeps its start and a digest of the whole."""
    skeleton = fold(username)
    if len(skeleton) <= SKELETON_MAX_LENGTH:
        return skeleton
    digest = hashlib.sha256(skeleton.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{skeleton[: SKELETON_MAX_LENGTH - len(digest) - 1]}#{digest}"


class User(AbstractUser):
    """Our own user model from the first migration, so profile fields can grow later
    without the painful mid-project swap away from ``auth.User``."""

    # Unique, so no one can sign up as a lookalike of someone else. Null only for accounts
    # that already looked alike before the column existed (the migration keeps the oldest).
    username_skeleton = models.CharField(  # noqa: DJ001 - NULL, unlike "", is not unique
        _("username skeleton"), max_length=SKELETON_MAX_LENGTH, unique=True, null=True, editable=False
    )

    class Meta:
        db_table = "accounts_user"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The name as stored, to tell a rename on save (read without loading a deferred field).
        self._stored_username: str | None = self.__dict__.get("username") if self.pk else None

    def clean(self) -> None:
        super().clean()
        skeleton = username_skeleton(self.get_username())
        if User.objects.filter(username_skeleton=skeleton).exclude(pk=self.pk).exists():
            raise ValidationError(
                {"username": _("This username looks too much like an existing one. Please choose another.")},
                code="lookalike",
            )

    def save(self, *args: Any, **kwargs: Any) -> None:
        update_fields = kwargs.get("update_fields")
        username = self.__dict__.get("username")
        renamed = username is not None and (self._state.adding or username != self._stored_username)
        if renamed and (update_fields is None or "username" in update_fields):
            self.username_skeleton = username_skeleton(str(username))
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "username_skeleton"}
        super().save(*args, **kwargs)
        self._stored_username = self.__dict__.get("username")
