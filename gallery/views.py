"""Gallery pages: your kept backgrounds, shared creations, explore and profiles."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gallery import selectors
from gallery.models import Creation
from gallery.pagination import Page, keyset_page
from generation.selectors import backgrounds_kept

PAGE_SIZE = 12


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
            "liked": request.user.is_authenticated and creation.likes.filter(user_id=request.user.pk).exists(),
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


def _page(request: HttpRequest, creations: QuerySet[Creation]) -> Page:
    return keyset_page(creations, request.GET.get("order", "newest"), request.GET.get("cursor"), PAGE_SIZE)


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
    return render(request, "gallery/explore.html", {"page": _page(request, selectors.creations_public())})


@require_GET
def profile(request: HttpRequest, username: str) -> HttpResponse:
    owner = get_user_model().objects.filter(username=username, is_active=True).first()
    if owner is None:
        raise Http404
    page = _page(request, selectors.creations_of(owner, request.user))
    return render(request, "gallery/profile.html", {"page": page, "profile_user": owner})
