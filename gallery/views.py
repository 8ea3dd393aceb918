"""Gallery pages: My pictures (your backgrounds and creations), shared creations, explore and profiles."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST, require_safe

from accounts.types import signed_in
from gallery import selectors, services, ui_strings
from gallery.media import media_url
from gallery.models import Creation, Visibility
from generation.selectors import backgrounds_kept, backgrounds_kept_matching
from wee_waa.pagination import LinkedPage, page_for_request

PAGE_SIZE = 12


# ---- My pictures (/gallery/): the signed-in user's kept backgrounds and creations ----------

SEARCH_MAX_LENGTH = 100


@dataclass(frozen=True)
class MyPicturesQuery:
    """Which tab, visibility and search a My pictures address asks for; links and forms keep
    them (paging, switching tabs, coming back after a delete)."""

    show: str = "backgrounds"  # or "creations"
    visibility: str = ""  # a Visibility value, or "" for all (creations only)
    search: str = ""

    @classmethod
    def parse(cls, data: QueryDict) -> MyPicturesQuery:
        """Anything unknown means the default: an old or hand-typed address still shows a page.
        The search loses control and format characters (NUL included, which PostgreSQL
        refuses) and extra spaces, and is cut to a sensible length."""
        show = "creations" if data.get("show") == "creations" else "backgrounds"
        visibility = data.get("visibility", "")
        visibility = visibility if show == "creations" and visibility in Visibility.values else ""
        words = "".join(char for char in data.get("q", "") if char.isprintable() or char.isspace())
        return cls(show=show, visibility=visibility, search=" ".join(words.split())[:SEARCH_MAX_LENGTH])

    def params(self, **changes: str) -> dict[str, str]:
        """The query string's parameters, defaults left out (``/gallery/`` stays ``/gallery/``)."""
        query = replace(self, **changes)
        pairs = {"show": "" if query.show == "backgrounds" else query.show, "visibility": query.visibility}
        return {key: value for key, value in {**pairs, "q": query.search}.items() if value}

    def url(self, **changes: str) -> str:
        params = self.params(**changes)
        return f"{reverse('gallery:index')}?{urlencode(params)}" if params else reverse("gallery:index")

    @property
    def url_without_search(self) -> str:
        return self.url(search="")

    @property
    def url_all_visibilities(self) -> str:
        return self.url(visibility="")


def _my_pictures_links(query: MyPicturesQuery, counts: dict[str, int]) -> dict[str, Any]:
    """The tabs and the visibility filter, as links: each reachable by keyboard, each a URL."""
    tabs = [("backgrounds", _("Backgrounds")), ("creations", _("Creations"))]
    filters = [
        ("", _("All")),
        (Visibility.PRIVATE, _("Private")),
        (Visibility.UNLISTED, _("Anyone with the link")),
        (Visibility.PUBLIC, _("Public")),
    ]
    return {
        "tabs": [
            {
                "key": key,
                "label": label,
                "count": counts[key],
                "url": query.url(show=key, visibility=""),
                "current": key == query.show,
            }
            for key, label in tabs
        ],
        "filters": [
            {"label": label, "url": query.url(visibility=value), "current": value == query.visibility}
            for value, label in filters
        ],
    }


@login_required
@require_safe
def index(request: HttpRequest) -> HttpResponse:
    """My pictures: ``?show=backgrounds`` (kept, newest kept first) or ``?show=creations``
    (every visibility, newest first), with ``?visibility=`` and ``?q=`` to narrow them."""
    query = MyPicturesQuery.parse(request.GET)
    items: QuerySet[Any]
    if query.show == "creations":
        items = selectors.creations_owned(request.user, visibility=query.visibility, search=query.search)
        keys = ("created_at", "id")
    else:
        items = backgrounds_kept_matching(request.user, search=query.search)
        keys = ("kept_at", "id")
    page = page_for_request(request, items, keys=keys, size=PAGE_SIZE, params=query.params())
    counts = {
        "backgrounds": backgrounds_kept(request.user).count(),
        "creations": selectors.creations_owned(request.user).count(),
    }
    context = {
        "page": page,
        "query": query,
        **_my_pictures_links(query, counts),
        # The same two counts as the quota's (``limits.stored_pictures``), without asking twice.
        "stored": counts["backgrounds"] + counts["creations"],
        "quota": settings.WEE_WAA_MAX_PICTURES_PER_USER,
    }
    return render(request, "gallery/index.html", context, status=page.status)


@login_required
@require_POST
def delete(request: HttpRequest) -> HttpResponse:
    """Delete the pictures ticked on My pictures: first a page that lists what will go (works
    without JavaScript, by keyboard), then, posted again with ``confirm``, the deletion and a
    redirect back to the same tab, filter and search with a message."""
    query = MyPicturesQuery.parse(request.POST)
    context: dict[str, Any] = {"query": query, "back_url": query.url()}
    try:
        background_ids, creation_ids = services.pictures_selection_check(
            background_ids=request.POST.getlist("background"), creation_ids=request.POST.getlist("creation")
        )
    except ValidationError as refused:
        return render(request, "gallery/delete_confirm.html", {**context, "error": refused.messages[0]}, status=400)
    if request.POST.get("confirm") != "yes":
        backgrounds, creations = selectors.pictures_chosen(
            request.user, background_ids=background_ids, creation_ids=creation_ids
        )
        context |= {"backgrounds": backgrounds, "creations": creations, "count": len(backgrounds) + len(creations)}
        return render(request, "gallery/delete_confirm.html", context, status=200 if context["count"] else 404)
    deleted = services.pictures_delete(
        owner=signed_in(request.user), background_ids=background_ids, creation_ids=creation_ids
    )
    if deleted.total:
        text = ngettext("%(count)d picture deleted.", "%(count)d pictures deleted.", deleted.total)
        messages.success(request, text % {"count": deleted.total})
    else:
        messages.info(request, _("Nothing was deleted: those pictures were already gone."))
    return redirect(context["back_url"])


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
            "creation_strings": ui_strings.creation_strings(),
            "report_reason_max": ui_strings.report_reason_max(),
        },
    )


@require_safe
def shared(request: HttpRequest, token: str) -> HttpResponse:
    """``/s/<token>/``: no login needed; a revoked token, a private or hidden picture is 404."""
    from wee_waa.errors import ShareLinkUnavailable  # its 404 page says the owner may have turned the link off

    creation = selectors.creation_shared_to(request.user, token)
    if creation is None:
        raise ShareLinkUnavailable
    return _creation_page(request, creation, shared=True)


@require_safe
def detail(request: HttpRequest, creation_id: str) -> HttpResponse:
    """``/c/<id>/``: the owner's own page, and public creations for everybody."""
    creation = selectors.creation_visible_to(request.user, creation_id)
    if creation is None:
        raise Http404
    return _creation_page(request, creation, shared=False)


# The orderings of creation lists (``?order=``), newest first within each; anything else is "newest".
ORDERINGS: dict[str, tuple[str, ...]] = {
    "newest": ("created_at", "id"),
    "liked": ("like_count", "created_at", "id"),
}


def _page(request: HttpRequest, creations: QuerySet[Creation]) -> tuple[LinkedPage[Creation], str]:
    order = request.GET.get("order", "newest")
    order = order if order in ORDERINGS else "newest"
    keys = ORDERINGS[order]
    return page_for_request(request, creations, keys=keys, size=PAGE_SIZE, params={"order": order}), order


@login_required
@require_safe
def compose(request: HttpRequest, background_id: str) -> HttpResponse:
    """The editor on one of the user's kept backgrounds: a new creation."""
    background = backgrounds_kept(request.user).filter(id=background_id).first()
    if background is None:
        raise Http404
    return render(
        request, "gallery/compose.html", {"background": background, "creation": None, **ui_strings.composer_context()}
    )


@login_required
@require_safe
def edit(request: HttpRequest, creation_id: str) -> HttpResponse:
    """The editor on an existing creation; only its owner may open it."""
    creation = selectors.creation_owned_by(request.user, creation_id)
    if creation is None:
        raise Http404
    context = {"background": creation.background, "creation": creation, **ui_strings.composer_context()}
    return render(request, "gallery/compose.html", context)


@require_safe
def explore(request: HttpRequest) -> HttpResponse:
    page, order = _page(request, selectors.creations_public())
    return render(request, "gallery/explore.html", {"page": page, "order": order}, status=page.status)


@require_safe
def profile(request: HttpRequest, username: str) -> HttpResponse:
    owner = get_user_model().objects.filter(username=username, is_active=True).first()
    if owner is None:
        raise Http404
    page, order = _page(request, selectors.creations_of(owner, request.user))
    context = {"page": page, "order": order, "profile_user": owner}
    return render(request, "gallery/profile.html", context, status=page.status)
