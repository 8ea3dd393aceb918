import re

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import redirect
from django.urls import include, path, re_path
from django.views.static import serve

from wee_waa import converters  # noqa: F401 - registers <pid:…> and <username:…> before the includes

urlpatterns = [
    path("", lambda request: redirect("studio"), name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("gallery.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("generation.urls")),
    path("", include("django_prometheus.urls")),
]


def media(request: HttpRequest, path: str) -> HttpResponseBase:
    """Local media through Django: fine for a self-hosted box; S3 serves its own files.
    Reads MEDIA_ROOT per request so the folder can change without re-importing URLs."""
    return serve(request, path, document_root=str(settings.MEDIA_ROOT))


if settings.SERVE_MEDIA:
    urlpatterns.append(re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", media))
