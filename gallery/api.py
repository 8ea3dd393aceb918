"""The creations API (/api/v1/creations/): thin classes that parse, check and call a service.

A creation the caller may not see answers 404, never 403: guessing ids tells nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.types import signed_in
from gallery import selectors, services
from gallery.api_examples import CREATION_EXAMPLE, CREATION_REQUEST_EXAMPLE, ShareTokenSerializer
from gallery.compositing import MAX_CENTRE, MAX_SCALE, MAX_Z, MIN_CENTRE, MIN_SCALE, layer_count_check
from gallery.media import media_url
from gallery.models import Character, Creation, ModerationState, Visibility
from generation.api import queue_limit_response
from generation.models import Background
from generation.services import QueueLimitReached, api_token_from, job_create
from wee_waa.api import signed_in_user
from wee_waa.api_schema import api_operation
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


@extend_schema_serializer(component_name="Layer")
class LayerSerializer(serializers.Serializer[dict[str, Any]]):
    """One character on the picture: which, where, how big, mirrored or not, and its place in
    the stack. A refusal names the layer and the field."""

    # The limits are gallery.compositing's. Whether the character exists, the service checks
    # (it checks everything again for callers that do not come through the API).

    character = serializers.CharField(help_text=_("A character's id (GET /api/v1/characters/)."))
    x = _Number(min_value=MIN_CENTRE, max_value=MAX_CENTRE, help_text=_("Centre, as a share of the width."))
    y = _Number(min_value=MIN_CENTRE, max_value=MAX_CENTRE, help_text=_("Centre, as a share of the height."))
    scale = _Number(min_value=MIN_SCALE, max_value=MAX_SCALE, help_text=_("Height, as a share of the height."))
    flip = _Flag(required=False, default=False)
    z = _WholeNumber(  # absent: stacked in list order
        required=False, min_value=-MAX_Z, max_value=MAX_Z, help_text=_("Stacking order; absent: list order.")
    )


class _LayersInputSerializer(serializers.Serializer[dict[str, Any]]):
    def to_internal_value(self, data: Any) -> Any:
        """Too many layers are refused before one is read (the cost is the server's); the
        exception handler answers like any service refusal: ``{"detail": [message]}``."""
        layers = data.get("layers") if isinstance(data, Mapping) else None
        if isinstance(layers, list):
            layer_count_check(len(layers))
        return super().to_internal_value(data)


@extend_schema_field(OpenApiTypes.STR)
class _MediaUrl(serializers.Field):  # type: ignore[type-arg]
    """A stored file as the URL that serves it (``/media/…``, which checks who may see it)."""

    def to_representation(self, value: Any) -> str:
        return media_url(value.name)


@extend_schema_field(LayerSerializer(many=True))
class _Layers(serializers.JSONField):
    """The stored layers as they are (``Layer.as_json``): the shape ``LayerSerializer`` reads."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": "Where the picture comes from: background, prompt, seed, style, model, job (and remix_of).",
    }
)
class _Provenance(serializers.JSONField):
    """Copied from the background's job when the creation was made; kept as it was stored."""


@extend_schema_serializer(component_name="Character")
class CharacterOutputSerializer(serializers.Serializer[Character]):
    id = serializers.CharField()
    name = serializers.CharField()
    image = _MediaUrl()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    default_scale = serializers.FloatField()


@extend_schema_serializer(component_name="Creation")
class CreationOutputSerializer(serializers.Serializer[Creation]):
    id = serializers.CharField()
    title = serializers.CharField()
    visibility = serializers.ChoiceField(choices=Visibility.choices)
    moderation = serializers.ChoiceField(choices=ModerationState.choices)
    layers = _Layers()
    image = _MediaUrl()
    thumbnail = _MediaUrl()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    like_count = serializers.IntegerField()
    provenance = _Provenance()
    share_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_share_url(self, creation: Creation) -> str | None:
        """Only the owner is given the link: it is theirs to hand out or revoke."""
        request = self.context.get("request")
        if request is None or request.user.pk != creation.owner_id:
            return None
        return str(request.build_absolute_uri(f"/s/{creation.share_token}/"))


@extend_schema_serializer(component_name="LikeResult")
class LikeOutputSerializer(serializers.Serializer[dict[str, Any]]):
    liked = serializers.BooleanField()
    like_count = serializers.IntegerField()


@extend_schema_serializer(component_name="ReportReceived")
class ReportOutputSerializer(serializers.Serializer[dict[str, Any]]):
    detail = serializers.CharField()


@extend_schema_serializer(component_name="SimilarJob")
class SimilarJobOutputSerializer(serializers.Serializer[dict[str, Any]]):
    job = serializers.CharField(help_text=_("The new job's id: follow it at /api/v1/jobs/{id}/."))
    studio_url = serializers.CharField()


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

    @api_operation(summary=_("The characters"), responses={200: CharacterOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        characters = Character.objects.filter(is_active=True).order_by("name", "id")
        return Response(CharacterOutputSerializer(characters, many=True).data)  # type: ignore[arg-type]


class CreationCreateApi(APIView):
    @extend_schema_serializer(component_name="CreationCreate")
    class InputSerializer(_LayersInputSerializer):
        background = serializers.CharField(
            error_messages={"required": _("Say which kept background to use.")},
            help_text=_("The id of one of your kept images (POST /api/v1/jobs/{id}/keep/)."),
        )
        layers = LayerSerializer(many=True)
        title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
        visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)

    @api_operation(
        summary=_("Make a creation"),
        description=_(
            "Draws the characters on a kept background (the server renders the picture). A full account: 409; "
            "drawing too fast: 429; too many renders at once: 503."
        ),
        request=InputSerializer,
        responses={201: CreationOutputSerializer},
        errors=[404, 409, 429, 503],
        invalid={"layers": [{}, {"x": ["Ensure this value is less than or equal to 1.5."]}]},
        examples=[CREATION_REQUEST_EXAMPLE, CREATION_EXAMPLE],
    )
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
    @extend_schema_serializer(component_name="CreationUpdate")
    class UpdateSerializer(_LayersInputSerializer):
        layers = LayerSerializer(many=True, required=False)
        title = serializers.CharField(max_length=120, required=False, allow_blank=True)
        visibility = serializers.ChoiceField(choices=Visibility.choices, required=False)

    @api_operation(
        summary=_("A creation you may see"),
        responses={200: CreationOutputSerializer},
        errors=[404],
        examples=[CREATION_EXAMPLE],
    )
    def get(self, request: Request, creation_id: str) -> Response:
        return _created(request, _visible(request, creation_id))

    @api_operation(
        summary=_("Change your creation"),
        description=_("New layers render the picture again (429 when drawing too fast, 503 when busy)."),
        request=UpdateSerializer,
        responses={200: CreationOutputSerializer},
        errors=[404, 429, 503],
        invalid={"visibility": ['"everyone" is not a valid choice.']},
    )
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

    @api_operation(summary=_("Delete your creation"), responses={204: None}, errors=[404])
    def delete(self, request: Request, creation_id: str) -> Response:
        services.creation_delete(creation=_owned(request, creation_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CreationShareLinkApi(APIView):
    @api_operation(
        summary=_("Renew the share link"),
        description=_("The old link answers 404 from now on; `share_url` is the new one."),
        request=None,
        responses={200: CreationOutputSerializer},
        errors=[404],
    )
    def post(self, request: Request, creation_id: str) -> Response:
        """Revoke the link and make a new one."""
        return _created(request, services.creation_share_link_renew(creation=_owned(request, creation_id)))


class CreationLikeApi(APIView):
    throttle_classes = [ResilientScopedRateThrottle]
    throttle_scope = "likes"

    @extend_schema_serializer(component_name="Like")
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        liked = serializers.BooleanField(default=True)

    @api_operation(
        summary=_("Like a public creation"),
        description=_("Idempotent; `liked: false` takes the like back. Rate-limited (429)."),
        request=InputSerializer,
        responses={200: LikeOutputSerializer},
        errors=[404, 429],
        invalid={"liked": ["Must be a valid boolean."]},
    )
    def post(self, request: Request, creation_id: str) -> Response:
        creation = _visible(request, creation_id)
        if creation.visibility != Visibility.PUBLIC:
            raise Http404  # likes are for public pictures only
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.creation_like(
            user=signed_in(request.user), creation=creation, liked=data.validated_data["liked"]
        )
        return Response(LikeOutputSerializer({"liked": data.validated_data["liked"], "like_count": count}).data)


class CreationReportApi(APIView):
    throttle_classes = [ResilientScopedRateThrottle]
    throttle_scope = "reports"

    @extend_schema_serializer(component_name="Report")
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        reason = serializers.CharField(
            max_length=1000, error_messages={"blank": _("Say what is wrong with this picture.")}
        )
        token = serializers.CharField(required=False, allow_blank=True)

    @api_operation(
        summary=_("Report a creation to the moderators"),
        request=InputSerializer,
        responses={201: ReportOutputSerializer},
        errors=[404, 429],
        invalid={"reason": ["Say what is wrong with this picture."]},
    )
    def post(self, request: Request, creation_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        creation = _visible(request, creation_id, data.validated_data.get("token"))
        services.creation_report(reporter=request.user, creation=creation, reason=data.validated_data["reason"])
        received = {"detail": _("Thank you. Moderators will look at this picture.")}
        return Response(ReportOutputSerializer(received).data, status=status.HTTP_201_CREATED)


def _visible_for_remix(request: Request, creation_id: str) -> Creation:
    """Remixing needs only what viewing needs: the share token stands in for an unlisted link."""
    token = str(request.data.get("token", "")) if isinstance(request.data, dict) else ""
    return _visible(request, creation_id, token)


class CreationRemixApi(APIView):
    @api_operation(
        summary=_("Remix a creation"),
        request=ShareTokenSerializer,
        responses={201: CreationOutputSerializer},
        errors=[404, 409, 429, 503],
        invalid={"detail": ["Moderators hid this picture, so it cannot be remixed."]},
    )
    def post(self, request: Request, creation_id: str) -> Response:
        """A new private creation of the caller's with the same background and layers."""
        source = _visible_for_remix(request, creation_id)
        remix = services.creation_remix(owner=signed_in(request.user), source=source)
        return _created(request, remix, status.HTTP_201_CREATED)


class CreationGenerateSimilarApi(APIView):
    @api_operation(
        summary=_("Queue a picture like this one's background"),
        request=ShareTokenSerializer,
        responses={201: SimilarJobOutputSerializer},
        errors=[404, 429],
        invalid={
            "prompt": [
                "This prompt contains a word or phrase this studio does not allow. "
                "Please describe the scene differently."
            ]
        },
    )
    def post(self, request: Request, creation_id: str) -> Response:
        """The background's prompt queued again for the caller, with a new seed."""
        source = _visible_for_remix(request, creation_id)
        job = source.background.job
        try:
            queued = job_create(
                owner=signed_in_user(request),
                api_token=api_token_from(request.auth),  # its webhook hears of this job too
                prompt=job.prompt,
                style=job.style,
                width=job.width,
                height=job.height,
                steps=job.steps,
            ).job
        except QueueLimitReached as limit:
            return queue_limit_response(limit)
        similar = {"job": queued.id, "studio_url": "/studio/"}
        return Response(SimilarJobOutputSerializer(similar).data, status=status.HTTP_201_CREATED)
