"""The creations API (/api/v1/creations/): thin classes that parse, check and call a service.

A creation the caller may not see answers 404, never 403: guessing ids tells nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.types import signed_in
from gallery import selectors, services
from gallery.compositing import MAX_CENTRE, MAX_SCALE, MAX_Z, MIN_CENTRE, MIN_SCALE, layer_count_check
from gallery.media import media_url
from gallery.models import Character, Creation, Visibility
from generation.api import queue_limit_response
from generation.models import Background
from generation.services import QueueLimitReached, job_create
from wee_waa.api import signed_in_user
from wee_waa.throttling import ResilientScopedRateThrottle


class _Number(serializers.FloatField):
    """A JSON number only: ``"0.5"`` or ``true`` is refused, as the service refuses them."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return float(super().to_internal_value(data))


class _Flag(serializers.BooleanField):
    """``true`` or ``false`` only, not DRF's ``"yes"``/``1`` spellings."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class _WholeNumber(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class LayerSerializer(serializers.Serializer[dict[str, Any]]):
    """One character on the picture, with the limits of ``gallery.compositing``: each problem
    named by its layer and field. Whether the character exists, the service checks (it checks
    everything again for callers that do not come through the API)."""

    character = serializers.CharField()
    x = _Number(min_value=MIN_CENTRE, max_value=MAX_CENTRE)
    y = _Number(min_value=MIN_CENTRE, max_value=MAX_CENTRE)
    scale = _Number(min_value=MIN_SCALE, max_value=MAX_SCALE)
    flip = _Flag(required=False, default=False)
    z = _WholeNumber(required=False, min_value=-MAX_Z, max_value=MAX_Z)  # absent: stacked in list order


class _LayersInputSerializer(serializers.Serializer[dict[str, Any]]):
    def to_internal_value(self, data: Any) -> Any:
        """Too many layers are refused before one is read (the cost is the server's); the
        exception handler answers like any service refusal: ``{"detail": [message]}``."""
        layers = data.get("layers") if isinstance(data, Mapping) else None
        if isinstance(layers, list):
            layer_count_check(len(layers))
        return super().to_internal_value(data)


class _MediaUrl(serializers.Field):  # type: ignore[type-arg]
    """A stored file as the URL that serves it (``/media/…``, which checks who may see it)."""

    def to_representation(self, value: Any) -> str:
        return media_url(value.name)


class CharacterOutputSerializer(serializers.Serializer[Character]):
    id = serializers.CharField()
    name = serializers.CharField()
    image = _MediaUrl()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    default_scale = serializers.FloatField()


class CreationOutputSerializer(serializers.Serializer[Creation]):
    id = serializers.CharField()
    title = serializers.CharField()
    visibility = serializers.CharField()
    moderation = serializers.CharField()
    layers = serializers.JSONField()
    image = _MediaUrl()
    thumbnail = _MediaUrl()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    like_count = serializers.IntegerField()
    provenance = serializers.JSONField()
    share_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_share_url(self, creation: Creation) -> str | None:
        """Only the owner is given the link: it is theirs to hand out or revoke."""
        request = self.context.get("request")
        if request is None or request.user.pk != creation.owner_id:
            return None
        return str(request.build_absolute_uri(f"/s/{creation.share_token}/"))


def _owned(request: Request, creation_id: str) -> Creation:
    creation = selectors.creation_owned_by(request.user, creation_id)
    if creation is None:
        raise Http404
    return creation


def _visible(request: Request, creation_id: str, token: str | None = None) -> Creation:
    creation = selectors.creation_visible_to(request.user, creation_id, token)
    if creation is None:
        raise Http404
    return creation


def _created(request: Request, creation: Creation, code: int = status.HTTP_200_OK) -> Response:
    return Response(CreationOutputSerializer(creation, context={"request": request}).data, status=code)


class CharacterListApi(APIView):
    """The active characters the editor offers, with their cut-out's size."""

    def get(self, request: Request) -> Response:
        characters = Character.objects.filter(is_active=True).order_by("name", "id")
        return Response(CharacterOutputSerializer(characters, many=True).data)  # type: ignore[arg-type]


class CreationCreateApi(APIView):
    class InputSerializer(_LayersInputSerializer):
        background = serializers.CharField(error_messages={"required": _("Say which kept background to use.")})
        layers = LayerSerializer(many=True)
        title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
        visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)

    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        background = Background.objects.filter(
            id=data.validated_data["background"], job__owner_id=request.user.pk, kept_at__isnull=False
        ).first()
        if background is None:
            raise Http404
        creation = services.creation_create(
            owner=signed_in(request.user), **{**data.validated_data, "background": background}
        )
        return _created(request, creation, status.HTTP_201_CREATED)


class CreationDetailApi(APIView):
    class UpdateSerializer(_LayersInputSerializer):
        layers = LayerSerializer(many=True, required=False)
        title = serializers.CharField(max_length=120, required=False, allow_blank=True)
        visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)

    def get(self, request: Request, creation_id: str) -> Response:
        return _created(request, _visible(request, creation_id))

    def patch(self, request: Request, creation_id: str) -> Response:
        creation = _owned(request, creation_id)
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        if "layers" in fields or "title" in fields:
            creation = services.creation_update(
                creation=creation, layers=fields.get("layers"), title=fields.get("title")
            )
        if "visibility" in fields:
            creation = services.creation_visibility_set(creation=creation, visibility=fields["visibility"])
        return _created(request, creation)

    def delete(self, request: Request, creation_id: str) -> Response:
        services.creation_delete(creation=_owned(request, creation_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CreationShareLinkApi(APIView):
    def post(self, request: Request, creation_id: str) -> Response:
        """Revoke the link and make a new one."""
        return _created(request, services.creation_share_link_renew(creation=_owned(request, creation_id)))


class CreationLikeApi(APIView):
    throttle_classes = [ResilientScopedRateThrottle]
    throttle_scope = "likes"

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        liked = serializers.BooleanField(default=True)

    def post(self, request: Request, creation_id: str) -> Response:
        creation = _visible(request, creation_id)
        if creation.visibility != Visibility.PUBLIC:
            raise Http404  # likes are for public pictures only
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.creation_like(
            user=signed_in(request.user), creation=creation, liked=data.validated_data["liked"]
        )
        return Response({"liked": data.validated_data["liked"], "like_count": count})


class CreationReportApi(APIView):
    throttle_classes = [ResilientScopedRateThrottle]
    throttle_scope = "reports"

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        reason = serializers.CharField(
            max_length=1000, error_messages={"blank": _("Say what is wrong with this picture.")}
        )
        token = serializers.CharField(required=False, allow_blank=True)

    def post(self, request: Request, creation_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        creation = _visible(request, creation_id, data.validated_data.get("token"))
        services.creation_report(reporter=request.user, creation=creation, reason=data.validated_data["reason"])
        return Response(
            {"detail": _("Thank you. Moderators will look at this picture.")}, status=status.HTTP_201_CREATED
        )


def _visible_for_remix(request: Request, creation_id: str) -> Creation:
    """Remixing needs only what viewing needs: the share token stands in for an unlisted link."""
    token = str(request.data.get("token", "")) if isinstance(request.data, dict) else ""
    return _visible(request, creation_id, token)


class CreationRemixApi(APIView):
    def post(self, request: Request, creation_id: str) -> Response:
        """A new private creation of the caller's with the same background and layers."""
        source = _visible_for_remix(request, creation_id)
        remix = services.creation_remix(owner=signed_in(request.user), source=source)
        return _created(request, remix, status.HTTP_201_CREATED)


class CreationGenerateSimilarApi(APIView):
    def post(self, request: Request, creation_id: str) -> Response:
        """The background's prompt queued again for the caller, with a new seed."""
        source = _visible_for_remix(request, creation_id)
        job = source.background.job
        try:
            queued = job_create(
                owner=signed_in_user(request),
                prompt=job.prompt,
                style=job.style,
                width=job.width,
                height=job.height,
                steps=job.steps,
            ).job
        except QueueLimitReached as limit:
            return queue_limit_response(limit)
        return Response({"job": queued.id, "studio_url": "/studio/"}, status=status.HTTP_201_CREATED)
