import re

from django.conf import settings
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import include, path, re_path

from gallery.media import serve_media
from wee_waa import converters  # noqa: F401 - registers <pid:…> and <username:…> before the includes

urlpatterns = [
    path("", lambda request: redirect("studio"), name="home"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("gallery.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("generation.urls")),
]

# Every picture file through one view that asks who may see it (local, X-Accel-Redirect or S3).
urlpatterns.append(re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<name>.+)$", serve_media))

handler400 = "wee_waa.errors.bad_request"
handler403 = "wee_waa.errors.permission_denied"
handler404 = "wee_waa.errors.page_not_found"
handler500 = "wee_waa.errors.server_error"
