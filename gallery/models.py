"""Characters, creations (a kept background with characters placed on it) and their moderation.

Kept backgrounds themselves live in ``generation.Background`` (``kept_at``).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from wee_waa.ids import PUBLIC_ID_LENGTH, new_public_id

SHARE_TOKEN_BYTES = 24  # 192 bits: unguessable, and still a short link


def new_share_token() -> str:
    return secrets.token_urlsafe(SHARE_TOKEN_BYTES)


class Character(models.Model):
    """A transparent cut-out people place on backgrounds; admins curate them."""

    id = models.CharField(primary_key=True, max_length=PUBLIC_ID_LENGTH, default=new_public_id, editable=False)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=80)
    image = models.ImageField(_("cut-out (PNG with transparency)"), upload_to="characters/")
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    default_scale = models.FloatField(
        _("default scale"), default=0.35, help_text=_("Height as a share of the background's height.")
    )
    source = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("Where the art comes from (for original work: the code).")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Private")
    UNLISTED = "unlisted", _("Unlisted (anyone with the link)")
    PUBLIC = "public", _("Public")


class ModerationState(models.TextChoices):
    VISIBLE = "visible", _("Visible")
    HIDDEN = "hidden", _("Hidden by moderators")


class Creation(models.Model):
    """A finished picture. ``layers`` is the truth; ``image`` is its server-side render."""

    id = models.CharField(primary_key=True, max_length=PUBLIC_ID_LENGTH, default=new_public_id, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creations")
    # CASCADE: a creation cannot exist without its background, so deleting a user (whose jobs
    # and backgrounds go with them) takes the creations drawn on those backgrounds too,
    # remixes by others included; the admin's confirmation page lists every one first.
    background = models.ForeignKey(
        "generation.Background", on_delete=models.CASCADE, related_name="creations", verbose_name=_("background")
    )
    # [{"character": id, "x": 0-1, "y": 0-1, "scale": share of height, "flip": bool, "z": int}]
    layers = models.JSONField(_("layers"), default=list)
    title = models.CharField(_("title"), max_length=120, blank=True)
    # Indexed: the media view finds a creation by its file's name on every picture request.
    image = models.ImageField(_("picture"), upload_to="creations/", blank=True, db_index=True)
    thumbnail = models.ImageField(_("thumbnail"), upload_to="creations/thumbs/", blank=True, db_index=True)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    share_token = models.CharField(max_length=64, unique=True, default=new_share_token)
    # Provenance, copied at creation so it survives edits of the style or deleted jobs.
    provenance = models.JSONField(_("provenance"), default=dict, blank=True)
    remixed_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="remixes", verbose_name=_("remix of")
    )
    # Every creation this one descends from (its source, the source's source, ...), written once
    # when the remix is made. Others see a remix only while all of them are shown to everyone,
    # which one subquery can ask at any depth (a chain of ``remixed_from`` could not).
    ancestors = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="descendants", verbose_name=_("remixed from")
    )
    # Set when a takedown of an ancestor hid this remix too: restoring that ancestor restores
    # exactly the remixes hidden with it, not those moderators hid on their own.
    hidden_with = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("hidden with")
    )
    moderation = models.CharField(
        _("moderation"), max_length=10, choices=ModerationState.choices, default=ModerationState.VISIBLE
    )
    like_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["visibility", "moderation", "-created_at"]),
            models.Index(fields=["owner", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.title or self.id


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "creation"], name="one_like_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.creation_id}"


class Report(models.Model):
    creation = models.ForeignKey(Creation, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports")
    reason = models.TextField(_("reason"), max_length=1000)
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Report on {self.creation_id}"


class ModerationLog(models.Model):
    """Who did what to which creation or user, and when: the audit trail."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=20)  # hide | restore | ban | unban (cascades say so in the note)
    creation = models.ForeignKey(Creation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_id}"
