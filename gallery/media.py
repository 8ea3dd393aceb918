"""Picture files, only for those who may see the picture: the ``/media/<name>`` view and the
one helper that writes those URLs.

Each request finds the file's row by its name, asks the selector, and then hands the bytes
over the cheapest way the deployment allows:

- local storage: Django streams the file (conditional GETs answer 304);
- ``WEE_WAA_MEDIA_ACCEL_PREFIX`` set: an empty answer with ``X-Accel-Redirect``, and nginx
  sends the file from an ``internal`` location;
- remote storage (S3): a redirect to a presigned URL that expires in
  ``WEE_WAA_S3_URL_EXPIRE`` seconds.

Nothing is ever public for longer than the rule says: files anyone may see are cacheable but
revalidated on every use (``no-cache``), so a hide, a switch to private, a revoked link or a
ban answers 404 on the very next request; other files are ``private, no-store``.
"""

from __future__ import annotations

import mimetypes
from urllib.parse import quote, urlencode

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_safe
from django.views.static import serve

from accounts.tokens import token_authenticate
from accounts.types import Viewer
from gallery import selectors

TOKEN_PARAMETER = "t"  # noqa: S105 - the name of a query parameter, not a secret
PUBLIC_CACHE = "public, no-cache"
PRIVATE_CACHE = "private, no-store"


def media_url(name: str, *, token: str | None = None) -> str:
    """The URL of a stored file: always through the media view, never the storage's own URL
    (on S3 that would be a presigned link that outlives a takedown). ``token``: the share
    token of the creation the file belongs to, for viewers who came through its link."""
    if not name:
        return ""
    url = f"{settings.MEDIA_URL}{quote(name)}"
    return f"{url}?{urlencode({TOKEN_PARAMETER: token})}" if token else url


def _is_local() -> bool:
    try:
        default_storage.path("probe")
    except NotImplementedError:
        return False
    return True


@require_safe
def serve_media(request: HttpRequest, name: str) -> HttpResponseBase:
    """``/media/<name>``: 404 for an unknown name and for a file this viewer may not see."""
    if "\x00" in name:
        raise Http404
    item = selectors.media_object(name)
    if item is None:
        raise Http404
    if selectors.media_visible(item, AnonymousUser()):
        cache_control = PUBLIC_CACHE
    elif selectors.media_visible(item, _viewer(request), token=request.GET.get(TOKEN_PARAMETER)):
        cache_control = PRIVATE_CACHE
    else:
        raise Http404
    response = _file_response(request, name)
    response["Cache-Control"] = cache_control
    return response


def _viewer(request: HttpRequest) -> Viewer:
    """Who asks: the session's user, or the owner of an API token sent as ``Authorization:
    Bearer`` (the image URLs in API answers and webhooks are for programs too). A bad token
    is nobody: the same 404 as any file this viewer may not see."""
    if request.user.is_authenticated:
        return request.user
    scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "bearer" and raw.strip():
        token = token_authenticate(raw.strip())
        if token is not None:
            return token.user
    return request.user


def _file_response(request: HttpRequest, name: str) -> HttpResponseBase:
    if not _is_local():
        return HttpResponseRedirect(default_storage.url(name))
    prefix = settings.WEE_WAA_MEDIA_ACCEL_PREFIX
    if prefix:
        response = HttpResponse(content_type=mimetypes.guess_type(name)[0] or "application/octet-stream")
        response["X-Accel-Redirect"] = f"{prefix}{quote(name)}"
        return response
    # Django's static serve: safe path joining, Last-Modified and If-Modified-Since (304).
    return serve(request, name, document_root=str(settings.MEDIA_ROOT))
