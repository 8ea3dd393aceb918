"""The generation REST API (/api/v1/jobs/): thin classes that parse, check and call a service."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import edits, selectors, services
from generation.api_examples import (
    CANCEL_CONFLICT_EXAMPLE,
    EDIT_REQUEST_EXAMPLE,
    FINISHED_STATUSES,
    JOB_EXAMPLE,
    JOB_REQUEST_EXAMPLE,
)
from generation.events import JobStatus, QueuePlace
from generation.manager.types import JobKind
from generation.models import Background, GenerationJob, Style
from generation.queueing import place_of, queue_places
from wee_waa.api import signed_in_user
from wee_waa.api_schema import api_operation
from wee_waa.pagination import KeysetPagination
from wee_waa.parsers import StrictJSONParser

MIN_SIZE, MAX_SIZE, SIZE_MULTIPLE = 64, 1024, 8
MAX_PROMPT = 500


def _size_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=MIN_SIZE,
        max_value=MAX_SIZE,
        error_messages={
            "min_value": _("Must be between 64 and 1024 pixels."),
            "max_value": _("Must be between 64 and 1024 pixels."),
            "invalid": _("Must be a whole number of pixels."),
        },
    )


@extend_schema_serializer(component_name="JobCreate")
class JobInputSerializer(serializers.Serializer[dict[str, Any]]):
    prompt = serializers.CharField(
        max_length=MAX_PROMPT,
        trim_whitespace=True,
        error_messages={
            "blank": _("Describe the scene you want: the prompt cannot be empty."),
            "required": _("Describe the scene you want: the prompt is required."),
            "max_length": _("Keep the prompt under 500 characters."),
        },
    )
    count = serializers.IntegerField(
        required=False,
        default=1,
        min_value=1,
        max_value=4,
        error_messages={"min_value": _("Choose 1 to 4 candidates."), "max_value": _("Choose 1 to 4 candidates.")},
    )
    width = _size_field()
    height = _size_field()
    steps = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=50,
        error_messages={"min_value": _("Steps must be from 1 to 50."), "max_value": _("Steps must be from 1 to 50.")},
    )
    seed = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=services.MAX_SEED - 8)
    # "style" shadows DRF Field.style (HTML hints) for type checkers only.
    style = serializers.CharField(required=False, allow_null=True, allow_blank=True)  # type: ignore[assignment]
    source_image = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=64,
        help_text=_("Edit this picture (an image id: your own, or one shown to everyone) instead of drawing anew."),
    )
    strength = serializers.FloatField(
        required=False,
        allow_null=True,
        min_value=edits.STRENGTH_MIN,
        max_value=edits.STRENGTH_MAX,
        help_text=_("How much of the picture may change: 0.05 (a little) to 1 (all of it). Steps of 0.05."),
        error_messages={
            "min_value": _("Strength must be from 0.05 (a little) to 1 (a lot)."),
            "max_value": _("Strength must be from 0.05 (a little) to 1 (a lot)."),
            "invalid": _("Strength must be a number from 0.05 to 1."),
        },
    )
    mask = edits.MaskField(
        required=False,
        allow_null=True,
        help_text=_(
            "Change only this region: a PNG (data: URL, or a file in a multipart request) of the picture's "
            "size or scaled to it; white = change."
        ),
    )

    def validate_width(self, value: int) -> int:
        return self._multiple_of_8(value)

    def validate_height(self, value: int) -> int:
        return self._multiple_of_8(value)

    @staticmethod
    def _multiple_of_8(value: int) -> int:
        if value % SIZE_MULTIPLE:
            raise serializers.ValidationError(_("Must be a multiple of 8 pixels (for example 512)."))
        return value

    def validate_source_image(self, value: str | None) -> Background | None:
        if not value:
            return None
        try:
            return edits.edit_source_for(self.context.get("user"), value)
        except edits.SourceNotFound as missing:
            raise NotFound(str(missing)) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """An edit draws at its source's size unless asked otherwise; its mask is read (and
        checked) at that size, so a bad one is refused before anything is written."""
        source: Background | None = attrs.get("source_image")
        mask = attrs.pop("mask", None)
        if source is None:
            attrs.pop("source_image", None)
            if mask:
                raise serializers.ValidationError({"mask": [_("A mask needs a picture to edit: give source_image.")]})
            if attrs.pop("strength", None) is not None:
                raise serializers.ValidationError(
                    {"strength": [_("Strength is for edits only: give source_image too.")]}
                )
            return attrs
        width, height = edits.edit_size(source, MIN_SIZE, MAX_SIZE, SIZE_MULTIPLE)
        attrs.setdefault("width", width)
        attrs.setdefault("height", height)
        if mask:
            try:
                attrs["mask"] = edits.mask_decode(mask, (attrs["width"], attrs["height"]))
            except DjangoValidationError as refused:
                raise serializers.ValidationError({"mask": refused.messages}) from None
        return attrs

    def validate_style(self, value: str | None) -> Style | None:
        if not value:
            return None
        style = Style.objects.filter(id=value, is_active=True).first()
        if style is None:
            raise serializers.ValidationError(_("Unknown style. Pick one of the styles offered in the studio."))
        return style


@extend_schema_serializer(component_name="Image")
class ImageOutputSerializer(serializers.Serializer[Background]):
    id = serializers.CharField()
    url = serializers.SerializerMethodField()
    seed = serializers.IntegerField()
    kept = serializers.SerializerMethodField()

    def get_url(self, image: Background) -> str:
        return selectors.image_payload(image)["url"]

    def get_kept(self, image: Background) -> bool:
        return image.kept_at is not None


@extend_schema_serializer(component_name="Job")
class JobOutputSerializer(serializers.Serializer[GenerationJob]):
    id = serializers.CharField()
    status = serializers.ChoiceField(choices=JobStatus.choices())
    progress = serializers.FloatField()
    error = serializers.CharField()
    prompt = serializers.CharField()
    style = serializers.CharField(source="style_id", allow_null=True)  # type: ignore[assignment]
    style_name = serializers.SerializerMethodField()
    seed = serializers.IntegerField()
    count = serializers.IntegerField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    steps = serializers.IntegerField()
    model = serializers.CharField(source="model_name")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    images = ImageOutputSerializer(many=True)
    position = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField()
    cancel_requested = serializers.BooleanField()
    kind = serializers.CharField()
    source_image = serializers.CharField(source="source_image_id", allow_null=True)
    strength = serializers.FloatField(allow_null=True)
    masked = serializers.SerializerMethodField()
    provenance = serializers.SerializerMethodField(
        help_text=_("The pictures this one was edited from, oldest first, as text (kept if they are deleted).")
    )

    def get_masked(self, job: GenerationJob) -> bool:
        return job.kind == JobKind.INPAINT

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_provenance(self, job: GenerationJob) -> list[dict[str, Any]]:
        return edits.job_provenance(job)

    def get_style_name(self, job: GenerationJob) -> str | None:
        return job.style.name if job.style else None

    def _place(self, job: GenerationJob) -> QueuePlace | None:
        """Places are read once per response (context "places", shared by a list's items),
        not once per job; a caller that has them already passes them in."""
        if job.status != JobStatus.QUEUED:
            return None
        if "places" not in self.context:
            self.context["places"] = queue_places()
        place = self.context["places"].get(job.id)
        return place[1] if place else None

    def get_position(self, job: GenerationJob) -> int | None:
        place = self._place(job)
        return place["position"] if place else None

    def get_eta_seconds(self, job: GenerationJob) -> float | None:
        place = self._place(job)
        return place["eta_seconds"] if place else None


@extend_schema_serializer(component_name="KeptImage")
class KeptImageOutputSerializer(serializers.Serializer[dict[str, Any]]):
    job = serializers.CharField()
    image = ImageOutputSerializer()
    gallery_url = serializers.CharField(help_text=_("The page that shows kept pictures."))


@extend_schema_serializer(component_name="JobConflict")
class JobConflictOutputSerializer(serializers.Serializer[dict[str, Any]]):
    """A job that has already finished cannot be cancelled: why, and how it ended."""

    detail = serializers.CharField()
    status = serializers.ChoiceField(choices=FINISHED_STATUSES)


class JobPagination(KeysetPagination):
    """The caller's jobs, newest first, by the site's one cursor scheme (``wee_waa.pagination``)."""

    keys = ("created_at", "id")
    page_size = 20
    max_page_size = 100


# The list's query parameters, as the paginator reads them (for /api/v1/schema/).
PAGE_PARAMETERS = [
    OpenApiParameter(
        "cursor", str, description=_("Where a page starts: copy it from a `next` or `previous` link, never build one.")
    ),
    OpenApiParameter(
        JobPagination.page_size_query_param,
        int,
        description=format_lazy(
            _("Items per page (default {default}, at most {max})."),
            default=JobPagination.page_size,
            max=JobPagination.max_page_size,
        ),
    ),
]


def queue_limit_response(limit: services.QueueLimitReached) -> Response:
    """429 with the reason and when to try again: every endpoint that queues a job answers so."""
    return Response(
        {"detail": limit.message},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(limit.retry_after)},
    )


def _owned_job(request: Request, job_id: str) -> GenerationJob:
    job = selectors.jobs_for_user(request.user).filter(id=job_id).first()
    if job is None:
        raise Http404
    return job


class JobListCreateApi(APIView):
    pagination_class = JobPagination  # read by the schema generator too: the list's page shape
    # JSON, or multipart for an edit whose mask comes as a file.
    parser_classes = [StrictJSONParser, edits.MaskUploadParser]

    @api_operation(
        summary=_("Your jobs, newest first"),
        parameters=PAGE_PARAMETERS,
        responses={200: JobOutputSerializer(many=True)},
        errors=[404],
    )
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(selectors.jobs_for_user(request.user), request, view=self)
        jobs = JobOutputSerializer(page or [], many=True)  # type: ignore[arg-type]
        return paginator.get_paginated_response(jobs.data)

    @api_operation(
        summary=_("Queue a picture"),
        description=_(
            "Only `prompt` is required; the style's defaults fill in the rest. Progress comes over the "
            "websocket; poll the job or follow `/ws/generation/`. Too many unfinished jobs, or a full line: 429."
        ),
        request=JobInputSerializer,
        responses={201: JobOutputSerializer},
        errors=[404, 415, 429],
        invalid={
            "prompt": ["Describe the scene you want: the prompt cannot be empty."],
            "width": ["Must be a multiple of 8 pixels (for example 512)."],
        },
        examples=[JOB_REQUEST_EXAMPLE, EDIT_REQUEST_EXAMPLE, JOB_EXAMPLE],
    )
    def post(self, request: Request) -> Response:
        data = JobInputSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        try:
            created = services.job_create(
                owner=signed_in_user(request), api_token=services.api_token_from(request.auth), **data.validated_data
            )
        except services.QueueLimitReached as limit:
            return queue_limit_response(limit)
        # Its place was found when it was announced; inside an outer transaction (no announcement
        # yet) it is found here, the same way: one indexed count, never the whole queue.
        context = {"places": created.places if created.places is not None else place_of(created.job)}
        return Response(JobOutputSerializer(created.job, context=context).data, status=status.HTTP_201_CREATED)


class JobDetailApi(APIView):
    @api_operation(
        summary=_("One of your jobs"), responses={200: JobOutputSerializer}, errors=[404], examples=[JOB_EXAMPLE]
    )
    def get(self, request: Request, job_id: str) -> Response:
        return Response(JobOutputSerializer(_owned_job(request, job_id)).data)


class JobCancelApi(APIView):
    @api_operation(
        summary=_("Cancel a job"),
        description=_("A queued job is cancelled at once; a running one stops at its next step."),
        responses={
            200: JobOutputSerializer,
            409: OpenApiResponse(
                JobConflictOutputSerializer,
                description=_("The job has already finished."),
                examples=[CANCEL_CONFLICT_EXAMPLE],
            ),
        },
        errors=[404],
    )
    def post(self, request: Request, job_id: str) -> Response:
        job = _owned_job(request, job_id)
        try:
            job = services.job_cancel(job=job)
        except services.JobAlreadyFinished as finished:
            message = {
                JobStatus.SUCCEEDED: _("This job has already finished: there is nothing left to cancel."),
                JobStatus.FAILED: _("This job has already failed: there is nothing left to cancel."),
                JobStatus.CANCELLED: _("This job is already cancelled."),
            }.get(JobStatus(finished.status), _("This job can no longer be cancelled."))
            conflict = JobConflictOutputSerializer({"detail": message, "status": finished.status})
            return Response(conflict.data, status=status.HTTP_409_CONFLICT)
        return Response(JobOutputSerializer(_owned_job(request, job.id)).data)


class JobKeepApi(APIView):
    @extend_schema_serializer(component_name="Keep")
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        image = serializers.CharField(
            error_messages={"required": _("Say which image to keep.")},
            help_text=_("The id of one of the job's images."),
        )

    @api_operation(
        summary=_("Keep a candidate"),
        description=_("Keeps it in My pictures, where creations are made from it; it counts towards the quota (409)."),
        request=InputSerializer,
        responses={200: KeptImageOutputSerializer},
        errors=[404, 409],
        invalid={"image": ["Say which image to keep."]},
    )
    def post(self, request: Request, job_id: str) -> Response:
        job = _owned_job(request, job_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = next((image for image in job.images.all() if image.id == data.validated_data["image"]), None)
        if image is None:
            raise Http404
        image = services.background_keep(image=image)
        kept = {"job": job.id, "image": image, "gallery_url": reverse("gallery:index")}
        return Response(KeptImageOutputSerializer(kept).data, status=status.HTTP_200_OK)
