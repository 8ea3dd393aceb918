from __future__ import annotations

from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminFileWidget
from django.core.files.uploadedfile import UploadedFile
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from gallery.models import Character
from gallery.uploads import validate_image_upload


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
            info = validate_image_upload(image)
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
            obj.image.url,
        )
