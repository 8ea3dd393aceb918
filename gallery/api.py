"""The creations API (/api/v1/creations/): thin classes that parse, check and call a service.

A creation the caller may not see answers 404, never 403: guessing ids tells nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gallery import selectors, services
from gallery.media import media_url
from gallery.models import Character, Creation, Visibility
from generation.api import queue_limit_response
from generation.blocklist import blocked_phrase_in
from generation.models import Background
from generation.services import QueueLimitReached, job_create
from wee_waa.throttling import ResilientScopedRateThrottle


def _django_errors(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError({"detail": exc.messages})


class CreationOutputSerializer(serializers.Serializer[Creation]):
    id = serializers.CharField()
    title = serializers.CharField()
    visibility = serializers.CharField()
    moderation = serializers.CharField()
    layers = serializers.JSONField()
    image = serializers.SerializerMethodField()
    thumbnail = serializers.SerializerMethodField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    like_count = serializers.IntegerField()
    provenance = serializers.JSONField()
    share_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_image(self, creation: Creation) -> str:
        return media_url(creation.image.name)

    def get_thumbnail(self, creation: Creation) -> str:
        return media_url(creation.thumbnail.name)

    def get_share_url(self, creation: Creation) -> str | None:
        """Only the owner is given the link: it is theirs to hand out or revoke."""
        request = self.context.get("request")
        if request is None or request.user.pk != creation.owner_id:
            return None
        return str(request.build_absolute_uri(f"/s/{creation.share_token}/"))


def _owned(request: Request, creation_id: str) -> Creation:
    creation = Creation.objects.select_related("owner").filter(id=creation_id, owner_id=request.user.pk).first()
    if creation is None:
        raise Http404
    return creation


def _visible(request: Request, creation_id: str) -> Creation:
    creation = Creation.objects.select_related("owner").filter(id=creation_id).first()
    if creation is None or not selectors.creation_visible(creation, request.user):
        raise Http404
    return creation


def _created(request: Request, creation: Creation, code: int = status.HTTP_200_OK) -> Response:
    return Response(CreationOutputSerializer(creation, context={"request": request}).data, status=code)


class CharacterListApi(APIView):
    """The active characters the editor offers, with their cut-out's size."""

    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "id": character.id,
                    "name": character.name,
                    "image": media_url(character.image.name),
                    "width": character.width,
                    "height": character.height,
                    "default_scale": character.default_scale,
                }
                for character in Character.objects.filter(is_active=True).order_by("name", "id")
            ]
        )


class CreationCreateApi(APIView):
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        background = serializers.CharField(error_messages={"required": _("Say which kept background to use.")})
        layers = serializers.JSONField()
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
        try:
            creation = services.creation_create(owner=request.user, **{**data.validated_data, "background": background})
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        return _created(request, creation, status.HTTP_201_CREATED)


class CreationDetailApi(APIView):
    class UpdateSerializer(serializers.Serializer[dict[str, Any]]):
        layers = serializers.JSONField(required=False)
        title = serializers.CharField(max_length=120, required=False, allow_blank=True)
        visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)

    def get(self, request: Request, creation_id: str) -> Response:
        return _created(request, _visible(request, creation_id))

    def patch(self, request: Request, creation_id: str) -> Response:
        creation = _owned(request, creation_id)
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            if "layers" in fields or "title" in fields:
                creation = services.creation_update(
                    creation=creation, layers=fields.get("layers"), title=fields.get("title")
                )
            if "visibility" in fields:
                creation = services.creation_visibility_set(creation=creation, visibility=fields["visibility"])
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
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
        count = services.creation_like(user=request.user, creation=creation, liked=data.validated_data["liked"])
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
        creation = Creation.objects.select_related("owner").filter(id=creation_id).first()
        via_link = bool(creation and data.validated_data.get("token") == creation.share_token)
        if creation is None or not selectors.creation_visible(creation, request.user, via_share_link=via_link):
            raise Http404
        services.creation_report(reporter=request.user, creation=creation, reason=data.validated_data["reason"])
        return Response(
            {"detail": _("Thank you. Moderators will look at this picture.")}, status=status.HTTP_201_CREATED
        )


def _visible_for_remix(request: Request, creation_id: str) -> Creation:
    """Remixing needs only what viewing needs: the share token stands in for an unlisted link."""
    creation = Creation.objects.select_related("owner", "background__job__style").filter(id=creation_id).first()
    token = str(request.data.get("token", "")) if isinstance(request.data, dict) else ""
    via_link = bool(creation and token and token == creation.share_token)
    if creation is None or not selectors.creation_visible(creation, request.user, via_share_link=via_link):
        raise Http404
    return creation


class CreationRemixApi(APIView):
    def post(self, request: Request, creation_id: str) -> Response:
        """A new private creation of the caller's with the same background and layers."""
        source = _visible_for_remix(request, creation_id)
        try:
            remix = services.creation_remix(owner=request.user, source=source)
        except DjangoValidationError as exc:
            raise _django_errors(exc) from exc
        return _created(request, remix, status.HTTP_201_CREATED)


class CreationGenerateSimilarApi(APIView):
    def post(self, request: Request, creation_id: str) -> Response:
        """The background's prompt queued again for the caller, with a new seed."""
        source = _visible_for_remix(request, creation_id)
        job = source.background.job
        if blocked_phrase_in(job.prompt):
            raise serializers.ValidationError({"prompt": [_("This prompt is no longer allowed in this studio.")]})
        try:
            queued = job_create(
                owner=request.user,
                prompt=job.prompt,
                style=job.style,
                width=job.width,
                height=job.height,
                steps=job.steps,
            )
        except QueueLimitReached as limit:
            return queue_limit_response(limit)
        return Response({"job": queued.id, "studio_url": "/studio/"}, status=status.HTTP_201_CREATED)
