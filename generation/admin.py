from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from gallery.media import media_url
from generation.admin_styles import StyleAdminForm, StyleTrainingAdmin
from generation.models import (
    Background,
    BlockedPhrase,
    GenerationJob,
    GenerationWorker,
    Style,
    StyleTraining,
    WebhookDelivery,
)

admin.site.register(StyleTraining, StyleTrainingAdmin)


@admin.register(Style)
class StyleAdmin(admin.ModelAdmin[Style]):
    """An uploaded adapter is checked by content against the model this server draws with
    (``style_adapters``); a refused file is a form error and nothing is stored."""

    form = StyleAdminForm
    list_display = ("name", "is_default", "is_active", "has_adapter", "lora_weight", "default_steps", "default_width")
    list_filter = ("is_active", "is_default")
    search_fields = ("name", "prompt_template", "description")
    readonly_fields = ("lora_sha256", "preview_picture")
    fieldsets = (
        (None, {"fields": ("name", "description", "preview", "preview_picture", "is_active", "is_default")}),
        (_("Prompt"), {"fields": ("prompt_template", "negative_prompt")}),
        (_("Adapter"), {"fields": ("lora", "lora_weight", "base_model", "lora_sha256")}),
        (_("Defaults"), {"fields": ("default_steps", "guidance_scale", "default_width", "default_height")}),
    )

    @admin.display(description=_("adapter"), boolean=True)
    def has_adapter(self, obj: Style) -> bool:
        return bool(obj.adapter_key)

    @admin.display(description=_("preview"))
    def preview_picture(self, obj: Style) -> str:
        return (
            format_html('<img src="{}" class="style-preview" alt="">', media_url(obj.preview.name))
            if obj.preview
            else "-"
        )

    def save_model(self, request: HttpRequest, obj: Style, form: Any, change: bool) -> None:
        info = form.adapter_info
        if info is not None:
            obj.lora_sha256 = info.sha256
            obj.base_model = obj.base_model or form.adapter_model
        elif not obj.lora:
            obj.lora_sha256 = ""
        super().save_model(request, obj, form, change)


class BackgroundInline(admin.TabularInline[Background, GenerationJob]):
    model = Background
    extra = 0
    can_delete = False
    fields = ("preview", "seed", "width", "height", "kept_at")
    readonly_fields = fields

    @admin.display(description="image")
    def preview(self, obj: Background) -> str:
        return format_html('<img src="{}" style="height:64px">', media_url(obj.image.name)) if obj.image else "-"


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin[GenerationJob]):
    list_display = ("prompt", "owner", "status", "progress", "count", "width", "height", "worker", "created_at")
    list_filter = ("status", "style", "cancel_requested")
    search_fields = ("prompt", "owner__username", "id", "worker")
    list_select_related = ("owner", "style")
    readonly_fields = (
        "id",
        "progress",
        "attempts",
        "started_at",
        "finished_at",
        "created_at",
        "model_name",
        "worker",
        "lease_expires_at",
        "cancel_requested",
    )
    inlines = [BackgroundInline]


@admin.register(GenerationWorker)
class GenerationWorkerAdmin(admin.ModelAdmin[GenerationWorker]):
    """Read-only: rows are written by the workers' heartbeats."""

    list_display = ("id", "state", "model_name", "device", "images_per_second", "restarts", "last_seen_at")
    list_filter = ("state", "device")
    readonly_fields = [field.name for field in GenerationWorker._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BlockedPhrase)
class BlockedPhraseAdmin(admin.ModelAdmin[BlockedPhrase]):
    """Prompts containing these are refused at submit time (case, spacing and punctuation ignored)."""

    list_display = ("phrase", "note", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("phrase", "note")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    """Read-only: rows are written when jobs finish and by the delivery loops. Staff read here
    why a program's webhook did not arrive (its status, error and the start of its answer)."""

    list_display = ("job", "url", "attempts", "last_status", "delivered_at", "gave_up_at", "next_attempt_at")
    list_filter = ("delivered_at", "gave_up_at")
    search_fields = ("id", "job__id", "url")
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return False
