"""Admin for styles' adapters and "Train a style": the upload check, the training form, and
the page that follows a run live (progress, a small loss plot, cancel)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from generation.models import Style, StyleTraining
from generation.style_adapters import AdapterInfo, validate_adapter_upload
from generation.style_training import (
    MAX_IMAGES,
    MIN_IMAGES,
    default_resolution,
    style_training_cancel,
    style_training_create,
    training_progress,
    validate_training_images,
)


class StyleAdminForm(forms.ModelForm[Style]):
    adapter_info: AdapterInfo | None = None
    adapter_model = ""

    class Meta:
        model = Style
        fields = [
            "name", "description", "preview", "is_active", "is_default", "prompt_template", "negative_prompt",
            "lora", "lora_weight", "base_model", "default_steps", "guidance_scale", "default_width", "default_height",
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        upload = cleaned.get("lora")
        if isinstance(upload, UploadedFile):  # a new file (not the stored one, not cleared)
            self.adapter_model = settings.WEE_WAA_MODEL
            try:
                self.adapter_info = validate_adapter_upload(upload, model=self.adapter_model, file_name=upload.name)
            except ValidationError as error:
                self.add_error("lora", error)
        return cleaned


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        cleaned = [super(MultipleImageField, self).clean(item, initial) for item in files]
        validate_training_images(cleaned)
        return cleaned


class TrainStyleForm(forms.Form):
    name = forms.CharField(label=_("Style name"), max_length=80)
    trigger_word = forms.CharField(
        label=_("Trigger word"), max_length=40, required=False, help_text=_("A made-up word that calls up the style.")
    )
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    images = MultipleImageField(
        label=_("Pictures"),
        help_text=_("Between %(low)s and %(high)s PNG, WebP or JPEG pictures.")
        % {"low": MIN_IMAGES, "high": MAX_IMAGES},
    )
    captions = forms.CharField(
        label=_("Captions"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text=_("One line per picture, in the order chosen; empty lines use the style name and trigger word."),
    )
    steps = forms.IntegerField(label=_("Steps"), min_value=1, max_value=20000, initial=500)
    rank = forms.IntegerField(label=_("Rank"), min_value=1, max_value=128, initial=4)
    learning_rate = forms.FloatField(label=_("Learning rate"), min_value=1e-7, max_value=1.0, initial=1e-4)
    resolution = forms.IntegerField(
        label=_("Resolution"), min_value=32, max_value=1024, help_text=_("A multiple of 8, in pixels.")
    )
    seed = forms.IntegerField(label=_("Seed"), min_value=0, initial=0)
    layers = forms.ChoiceField(
        label=_("Layers trained"),
        choices=[("attention", _("attention projections (the usual recipe)")), ("all", _("all layers"))],
        initial="attention",
    )

    def clean_resolution(self) -> int:
        value = int(self.cleaned_data["resolution"])
        if value % 8:
            raise ValidationError(_("Use a multiple of 8."), code="resolution")
        return value


class StyleTrainingAdmin(admin.ModelAdmin[StyleTraining]):
    list_display = ("name", "status", "step", "steps", "result", "created_by", "created_at")
    list_filter = ("status",)
    search_fields = ("name", "id")

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<str:run_id>/progress/", wrap(self.progress_view), name="generation_styletraining_progress"),
            path("<str:run_id>/cancel/", wrap(require_POST(self.cancel_view)), name="generation_styletraining_cancel"),
            *super().get_urls(),
        ]

    def has_change_permission(self, request: HttpRequest, obj: StyleTraining | None = None) -> bool:
        return False  # a run's settings are fixed once queued; its page only follows it

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = TrainStyleForm(
            request.POST or None,
            request.FILES or None,
            initial={
                "resolution": default_resolution(),
                "steps": 500,
                "rank": 4,
                "learning_rate": 1e-4,
                "seed": 0,
                "layers": "attention",
            },
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            run = style_training_create(
                name=data["name"],
                files=data["images"],
                captions=data["captions"].splitlines(),
                trigger_word=data["trigger_word"],
                description=data["description"],
                steps=data["steps"],
                rank=data["rank"],
                learning_rate=data["learning_rate"],
                resolution=data["resolution"],
                seed=data["seed"],
                layers=data["layers"],
                created_by=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
            )
            messages.success(request, gettext("The training is queued; it runs when the model is free."))
            return HttpResponseRedirect(reverse("admin:generation_styletraining_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Train a style"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(
            request, "admin/generation/styletraining/train.html", context, status=400 if form.errors else 200
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(StyleTraining, pk=object_id)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Training: %(name)s") % {"name": run.name},
            "run": run,
            "opts": self.model._meta,
            "can_cancel": self.has_add_permission(request),
            "training_page": {
                "progressUrl": reverse("admin:generation_styletraining_progress", args=[run.pk]),
                "initial": training_progress(run),
                "strings": {
                    "step": gettext("Step %(step)s of %(steps)s"),
                    "loss": gettext("loss %(loss)s"),
                    "noLoss": gettext("No loss measured yet."),
                },
            },
        }
        return TemplateResponse(request, "admin/generation/styletraining/progress.html", context)

    def progress_view(self, request: HttpRequest, run_id: str) -> JsonResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return JsonResponse(training_progress(get_object_or_404(StyleTraining, pk=run_id)))

    def cancel_view(self, request: HttpRequest, run_id: str) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        style_training_cancel(get_object_or_404(StyleTraining, pk=run_id))
        messages.info(request, gettext("The training stops at its next step."))
        return HttpResponseRedirect(reverse("admin:generation_styletraining_change", args=[run_id]))
