from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wee_waa.confusables import fold
from wee_waa.ids import PUBLIC_ID_LENGTH, new_public_id

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


class ApiToken(models.Model):
    """A personal token a program signs in with (``Authorization: Bearer wwt_…``).

    Only the SHA-256 digest of the token is kept: a leaked database or backup cannot be
    replayed against the API. A plain hash (not a slow password hash) is enough because the
    token is 240 random bits, and it lets a request find its row with one indexed lookup.
    The webhook secret, in contrast, is kept as is: the server needs it to sign deliveries.
    """

    id = models.CharField(primary_key=True, max_length=PUBLIC_ID_LENGTH, default=new_public_id, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    digest = models.CharField(_("digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    # Who revoked it (the owner, or a moderator from the admin); empty while it is active.
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("revoked by"),
    )
    webhook_url = models.URLField(_("webhook URL"), max_length=500, blank=True)
    webhook_secret = models.CharField(_("webhook signing secret"), max_length=80, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_revoked")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_active_at(self, when: dt.datetime) -> bool:
        """Not revoked and not expired at ``when``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > when)
