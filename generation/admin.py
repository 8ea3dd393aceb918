from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from gallery.media import media_url
from generation.models import Background, BlockedPhrase, GenerationJob, GenerationWorker, Style, WebhookDelivery


@admin.register(Style)
class StyleAdmin(admin.ModelAdmin[Style]):
    list_display = ("name", "is_default", "is_active", "default_steps", "guidance_scale", "default_width")
    list_filter = ("is_active", "is_default")
    search_fields = ("name", "prompt_template")


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
