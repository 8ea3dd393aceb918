"""The generation REST API (/api/v1/jobs/): thin classes that parse, check and call a service."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from generation import selectors, services
from generation.events import JobStatus, QueuePlace
from generation.models import Background, GenerationJob, Style
from generation.queueing import queue_places
from wee_waa.api import signed_in_user
from wee_waa.pagination import KeysetPagination

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

    def validate_width(self, value: int) -> int:
        return self._multiple_of_8(value)

    def validate_height(self, value: int) -> int:
        return self._multiple_of_8(value)

    @staticmethod
    def _multiple_of_8(value: int) -> int:
        if value % SIZE_MULTIPLE:
            raise serializers.ValidationError(_("Must be a multiple of 8 pixels (for example 512)."))
        return value

    def validate_style(self, value: str | None) -> Style | None:
        if not value:
            return None
        style = Style.objects.filter(id=value, is_active=True).first()
        if style is None:
            raise serializers.ValidationError(_("Unknown style. Pick one of the styles offered in the studio."))
        return style


class ImageOutputSerializer(serializers.Serializer[Background]):
    id = serializers.CharField()
    url = serializers.SerializerMethodField()
    seed = serializers.IntegerField()
    kept = serializers.SerializerMethodField()

    def get_url(self, image: Background) -> str:
        return selectors.image_payload(image)["url"]

    def get_kept(self, image: Background) -> bool:
        return image.kept_at is not None


class JobOutputSerializer(serializers.Serializer[GenerationJob]):
    id = serializers.CharField()
    status = serializers.CharField()
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
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField()
    images = ImageOutputSerializer(many=True)
    position = serializers.SerializerMethodField()
    eta_seconds = serializers.SerializerMethodField()
    cancel_requested = serializers.BooleanField()

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


class JobPagination(KeysetPagination):
    """The caller's jobs, newest first, by the site's one cursor scheme (``wee_waa.pagination``)."""

    keys = ("created_at", "id")
    page_size = 20
    max_page_size = 100


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
    def get(self, request: Request) -> Response:
        paginator = JobPagination()
        page = paginator.paginate_queryset(selectors.jobs_for_user(request.user), request, view=self)
        jobs = JobOutputSerializer(page or [], many=True)  # type: ignore[arg-type]
        return paginator.get_paginated_response(jobs.data)

    def post(self, request: Request) -> Response:
        data = JobInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            created = services.job_create(owner=signed_in_user(request), **data.validated_data)
        except services.QueueLimitReached as limit:
            return queue_limit_response(limit)
        context = {} if created.places is None else {"places": created.places}
        return Response(JobOutputSerializer(created.job, context=context).data, status=status.HTTP_201_CREATED)


class JobDetailApi(APIView):
    def get(self, request: Request, job_id: str) -> Response:
        return Response(JobOutputSerializer(_owned_job(request, job_id)).data)


class JobCancelApi(APIView):
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
            return Response({"detail": message, "status": finished.status}, status=status.HTTP_409_CONFLICT)
        return Response(JobOutputSerializer(_owned_job(request, job.id)).data)


class JobKeepApi(APIView):
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        image = serializers.CharField(error_messages={"required": _("Say which image to keep.")})

    def post(self, request: Request, job_id: str) -> Response:
        job = _owned_job(request, job_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        image = next((image for image in job.images.all() if image.id == data.validated_data["image"]), None)
        if image is None:
            raise Http404
        image = services.background_keep(image=image)
        return Response(
            {"job": job.id, "image": ImageOutputSerializer(image).data, "gallery_url": reverse("gallery:index")},
            status=status.HTTP_200_OK,
        )
