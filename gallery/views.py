"""Gallery pages: your kept backgrounds, shared creations, explore and profiles."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from gallery import selectors
from gallery.media import media_url
from gallery.models import Creation
from gallery.pagination import Page, keyset_page
from generation.selectors import backgrounds_kept

PAGE_SIZE = 12


@login_required
def index(request: HttpRequest) -> HttpResponse:
    page = Paginator(backgrounds_kept(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "gallery/index.html", {"page": page})


def _remix_credit(request: HttpRequest, creation: Creation) -> dict[str, str] | None:
    """The "Remix of <title> by <author>" line, from the provenance kept when the remix was
    made (it survives the source's deletion); a link only when this viewer may open the source."""
    provenance = creation.provenance if isinstance(creation.provenance, dict) else {}
    if not provenance.get("remix_of"):
        return None
    source = creation.remixed_from
    title = provenance.get("remix_of_title") or (source.title if source else "") or _("an untitled picture")
    author = provenance.get("remix_of_author") or (source.owner.get_username() if source else "") or "?"
    url = ""
    if source is not None and selectors.creation_visible(source, request.user):
        url = reverse("gallery:detail", args=[source.id])
    return {"title": str(title), "author": str(author), "url": url}


def _creation_page(request: HttpRequest, creation: Creation, *, shared: bool) -> HttpResponse:
    # On a shared page the file URLs carry the link's token: without it an unlisted picture's
    # file is 404 to the viewer (and to chat apps fetching og:image, which the owner shared).
    image_src = media_url(creation.image.name, token=creation.share_token if shared else None)
    is_owner = request.user.is_authenticated and request.user.pk == creation.owner_id
    return render(
        request,
        "gallery/creation.html",
        {
            "creation": creation,
            "shared": shared,
            "is_owner": is_owner,
            "liked": request.user.is_authenticated and creation.likes.filter(user_id=request.user.pk).exists(),
            "image_src": image_src,
            "image_url": request.build_absolute_uri(image_src) if image_src else "",
            "page_url": request.build_absolute_uri(),
            "remix_credit": _remix_credit(request, creation),
            "stays_private": is_owner and not selectors.lineage_shown(creation),
        },
    )


@require_safe
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """``/s/<token>/``: no login needed; a revoked token, a private or hidden picture is 404."""
    creation = selectors.creation_shared_to(request.user, token)
    if creation is None:
        raise Http404
    return _creation_page(request, creation, shared=True)


@require_safe
def detail(request: HttpRequest, creation_id: str) -> HttpResponse:
    """``/c/<id>/``: the owner's own page, and public creations for everybody."""
    creation = selectors.creation_visible_to(request.user, creation_id)
    if creation is None:
        raise Http404
    return _creation_page(request, creation, shared=False)


def _page(request: HttpRequest, creations: QuerySet[Creation]) -> Page:
    return keyset_page(creations, request.GET.get("order", "newest"), request.GET.get("cursor"), PAGE_SIZE)


@login_required
@require_safe
def compose(request: HttpRequest, background_id: str) -> HttpResponse:
    """The editor on one of the user's kept backgrounds: a new creation."""
    background = backgrounds_kept(request.user).filter(id=background_id).first()
    if background is None:
        raise Http404
    return render(request, "gallery/compose.html", {"background": background, "creation": None})


@login_required
@require_safe
def edit(request: HttpRequest, creation_id: str) -> HttpResponse:
    """The editor on an existing creation; only its owner may open it."""
    creation = selectors.creation_owned_by(request.user, creation_id)
    if creation is None:
        raise Http404
    return render(request, "gallery/compose.html", {"background": creation.background, "creation": creation})


@require_safe
def explore(request: HttpRequest) -> HttpResponse:
    return render(request, "gallery/explore.html", {"page": _page(request, selectors.creations_public())})


@require_safe
def profile(request: HttpRequest, username: str) -> HttpResponse:
    owner = get_user_model().objects.filter(username=username, is_active=True).first()
    if owner is None:
        raise Http404
    page = _page(request, selectors.creations_of(owner, request.user))
    return render(request, "gallery/profile.html", {"page": page, "profile_user": owner})
