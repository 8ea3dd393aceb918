from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from generation.models import Background, GenerationJob, Style


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
        return format_html('<img src="{}" style="height:64px">', obj.image.url) if obj.image else "-"


@admin.register(GenerationJob)
class GenerationJobAdmin(admin.ModelAdmin[GenerationJob]):
    list_display = ("prompt", "owner", "status", "progress", "count", "width", "height", "created_at")
    list_filter = ("status", "style")
    search_fields = ("prompt", "owner__username", "id")
    list_select_related = ("owner", "style")
    readonly_fields = ("id", "progress", "attempts", "started_at", "finished_at", "created_at", "model_name")
    inlines = [BackgroundInline]
