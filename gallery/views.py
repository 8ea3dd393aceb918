"""Gallery pages: your kept backgrounds, shared creations, explore and profiles."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gallery import selectors
from gallery.models import Creation
from generation.selectors import backgrounds_kept

PAGE_SIZE = 12
ORDERINGS = {"newest": ("-created_at", "-id"), "liked": ("-like_count", "-created_at", "-id")}


@login_required
def index(request: HttpRequest) -> HttpResponse:
    page = Paginator(backgrounds_kept(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "gallery/index.html", {"page": page})


def _creation_page(request: HttpRequest, creation: Creation, *, shared: bool) -> HttpResponse:
    return render(
        request,
        "gallery/creation.html",
        {
            "creation": creation,
            "shared": shared,
            "is_owner": request.user.is_authenticated and request.user.pk == creation.owner_id,
            "image_url": request.build_absolute_uri(creation.image.url) if creation.image else "",
            "page_url": request.build_absolute_uri(),
        },
    )


@require_GET
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """``/s/<token>/``: no login needed; a revoked token, a private or hidden picture is 404."""
    creation = selectors.creation_by_token(token)
    if creation is None or not selectors.creation_visible(creation, request.user, via_share_link=True):
        raise Http404
    return _creation_page(request, creation, shared=True)


@require_GET
def detail(request: HttpRequest, creation_id: str) -> HttpResponse:
    """``/c/<id>/``: the owner's own page, and public creations for everybody."""
    creation = Creation.objects.select_related("owner", "background__job").filter(id=creation_id).first()
    if creation is None or not selectors.creation_visible(creation, request.user):
        raise Http404
    return _creation_page(request, creation, shared=False)


def _paged(request: HttpRequest, creations: object, order: str) -> dict[str, object]:
    ordering = ORDERINGS.get(order, ORDERINGS["newest"])
    page = Paginator(creations.order_by(*ordering), PAGE_SIZE).get_page(request.GET.get("page"))  # type: ignore[attr-defined]
    return {"page": page, "order": order if order in ORDERINGS else "newest"}


@login_required
@require_GET
def compose(request: HttpRequest, background_id: str) -> HttpResponse:
    """The editor on one of the user's kept backgrounds: a new creation."""
    background = backgrounds_kept(request.user).filter(id=background_id).first()
    if background is None:
        raise Http404
    return render(request, "gallery/compose.html", {"background": background, "creation": None})


@login_required
@require_GET
def edit(request: HttpRequest, creation_id: str) -> HttpResponse:
    """The editor on an existing creation; only its owner may open it."""
    creation = (
        Creation.objects.select_related("background__job").filter(id=creation_id, owner_id=request.user.pk).first()
    )
    if creation is None:
        raise Http404
    return render(request, "gallery/compose.html", {"background": creation.background, "creation": creation})


@require_GET
def explore(request: HttpRequest) -> HttpResponse:
    context = _paged(request, selectors.creations_public(), request.GET.get("order", "newest"))
    context["liked"] = selectors.liked_by(request.user, list(context["page"].object_list))  # type: ignore[attr-defined]
    return render(request, "gallery/explore.html", context)


@require_GET
def profile(request: HttpRequest, username: str) -> HttpResponse:
    owner = get_user_model().objects.filter(username=username, is_active=True).first()
    if owner is None:
        raise Http404
    context = _paged(request, selectors.creations_of(owner, request.user), request.GET.get("order", "newest"))
    context["profile_user"] = owner
    return render(request, "gallery/profile.html", context)
