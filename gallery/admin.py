from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AdminFileWidget
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.types import signed_in
from gallery import services
from gallery.media import media_url
from gallery.models import Character, Creation, ModerationLog, Report, Visibility
from gallery.uploads import cut_out_to_store, validate_image_upload


class CharacterForm(forms.ModelForm[Character]):
    """Checks the cut-out by its content and records its size; a bad file stores nothing.

    A plain ``FileField`` rather than ``ImageField``: the latter would decode the file first
    and answer every problem with one vague message.
    """

    image = forms.FileField(
        label=_("cut-out (PNG with transparency)"),
        help_text=_("PNG, WebP or JPEG, at most 8 MB and 4096 × 4096 pixels. Keep the background transparent."),  # noqa: RUF001
        widget=AdminFileWidget,
    )

    class Meta:
        model = Character
        fields = ("name", "slug", "image", "default_scale", "source", "is_active")

    def clean_image(self) -> Any:
        image = self.cleaned_data["image"]
        if isinstance(image, UploadedFile):  # a new upload, not the file already stored
            # Stored upright and at most as tall as renders use (gallery/uploads.py).
            image, info = cut_out_to_store(image, validate_image_upload(image))
            # Name it by what it is, so a PNG sent as "photo.txt" is stored as a .png.
            image.name = f"{PurePath(image.name or 'character').stem}.{info.extension}"
            self.instance.width, self.instance.height = info.width, info.height
        return image


@admin.register(Character)
class CharacterAdmin(admin.ModelAdmin[Character]):
    """Shipped characters come back if deleted (``ensure_characters``): untick *active* to hide one."""

    form = CharacterForm
    list_display = ("preview", "name", "slug", "default_scale", "is_active")
    list_display_links = ("preview", "name")
    list_filter = ("is_active",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("preview", "width", "height")

    @admin.display(description=_("preview"))
    def preview(self, obj: Character) -> str:
        if not obj.image:
            return "-"
        return format_html(
            '<img src="{}" alt="" style="height:64px;background:repeating-conic-gradient(#ddd 0 25%,#fff 0 50%) '
            '0 0/16px 16px">',
            media_url(obj.image.name),
        )


def _thumbnail(creation: Creation | None) -> str:
    """Staff see in the admin what they may see on the pages: not a private picture."""
    if creation is None or not creation.thumbnail:
        return "-"
    if creation.visibility == Visibility.PRIVATE:
        return str(_("private"))
    return format_html('<img src="{}" alt="" style="height:64px">', media_url(creation.thumbnail.name))


def _hide(request: HttpRequest, creations: list[Creation], hide: bool) -> None:
    for creation in creations:
        services.creation_moderate(actor=request.user, creation=creation, hide=hide)


@admin.register(Creation)
class CreationAdmin(admin.ModelAdmin[Creation]):
    list_display = ("thumb", "title", "owner", "visibility", "moderation", "like_count", "created_at")
    list_filter = ("moderation", "visibility")
    search_fields = ("title", "id", "owner__username", "provenance")
    list_select_related = ("owner",)
    # Lineage and takedown bookkeeping are written by the services only: editing them here
    # would let a remix escape the rules that follow its sources.
    readonly_fields = (
        "thumb",
        "background",
        "layers",
        "provenance",
        "share_token",
        "like_count",
        "moderation",
        "remixed_from",
        "ancestors",
        "hidden_with",
    )
    actions = ["hide_creations", "restore_creations"]

    @admin.display(description=_("picture"))
    def thumb(self, obj: Creation) -> str:
        return _thumbnail(obj)

    @admin.action(description=_("Hide (take down) the selected creations"))
    def hide_creations(self, request: HttpRequest, queryset: QuerySet[Creation]) -> None:
        _hide(request, list(queryset), True)
        self.message_user(request, _("Hidden."), messages.SUCCESS)

    @admin.action(description=_("Restore the selected creations"))
    def restore_creations(self, request: HttpRequest, queryset: QuerySet[Creation]) -> None:
        _hide(request, list(queryset), False)
        self.message_user(request, _("Restored."), messages.SUCCESS)


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin[Report]):
    """The moderation queue: what was reported, by whom, and the picture with its prompt."""

    list_display = ("thumb", "prompt", "owner", "reason", "reporter", "created_at", "resolved_at")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter),)
    list_select_related = ("creation__owner", "reporter")
    readonly_fields = ("creation", "reporter", "reason", "created_at", "resolved_at")
    actions = ["hide_reported", "restore_reported", "ban_owners"]

    @admin.display(description=_("picture"))
    def thumb(self, obj: Report) -> str:
        return _thumbnail(obj.creation)

    @admin.display(description=_("prompt"))
    def prompt(self, obj: Report) -> str:
        return str(obj.creation.provenance.get("prompt", ""))

    @admin.display(description=_("owner"))
    def owner(self, obj: Report) -> str:
        return str(obj.creation.owner)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Hide the reported creations"))
    def hide_reported(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        _hide(request, list({report.creation for report in queryset}), True)
        self.message_user(request, _("Hidden."), messages.SUCCESS)

    @admin.action(description=_("Restore the reported creations"))
    def restore_reported(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        _hide(request, list({report.creation for report in queryset}), False)
        self.message_user(request, _("Restored."), messages.SUCCESS)

    @admin.action(description=_("Ban the owners of the reported creations"))
    def ban_owners(self, request: HttpRequest, queryset: QuerySet[Report]) -> None:
        for owner in {report.creation.owner for report in queryset}:
            if owner.is_staff:
                self.message_user(request, _("Staff accounts are not banned from here."), messages.WARNING)
                continue
            services.user_ban(actor=signed_in(request.user), user=owner)
        self.message_user(request, _("Banned."), messages.SUCCESS)


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin[ModerationLog]):
    """The audit trail: read-only."""

    list_display = ("created_at", "actor", "action", "creation", "target_user", "note")
    list_filter = ("action",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# The report changelist's "Resolved at: Empty" filter (``EmptyFieldListFilter``): the open ones.
OPEN_REPORTS_QUERY = "resolved_at__isempty=1"


def moderation_index(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """The admin's front page with the open reports counted on top, linked to the queue already
    filtered to them: what a moderator opens the admin for. Only for those who may see reports."""
    context = dict(extra_context or {})
    if request.user.has_perm("gallery.view_report"):
        context["open_reports"] = Report.objects.filter(resolved_at__isnull=True).count()
        context["open_reports_url"] = f"{reverse('admin:gallery_report_changelist')}?{OPEN_REPORTS_QUERY}"
    return admin.site.index(request, extra_context=context)
