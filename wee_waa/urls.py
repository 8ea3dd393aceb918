import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _

from gallery.admin import moderation_index
from gallery.front import front
from gallery.media import serve_media
from wee_waa import converters  # noqa: F401 - registers <pid:…> and <username:…> before the includes
from wee_waa.api_docs import SchemaView, api_docs

# The admin is where moderators work: it says so, and its front page counts the open reports.
admin.site.site_header = admin.site.site_title = admin.site.index_title = _("Wee-Waa moderation")

urlpatterns = [
    path("", front, name="home"),
    path("admin/", admin.site.admin_view(moderation_index)),  # before the admin's own index, which it wraps
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("", include("gallery.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("generation.urls")),
    # The OpenAPI document (YAML; JSON with ?format=json) and Swagger UI for it: wee_waa/api_docs.py.
    path("api/v1/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
]

# Every picture file through one view that asks who may see it (local, X-Accel-Redirect or S3).
urlpatterns.append(re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<name>.+)$", serve_media))

handler400 = "wee_waa.errors.bad_request"
handler403 = "wee_waa.errors.permission_denied"
handler404 = "wee_waa.errors.page_not_found"
handler500 = "wee_waa.errors.server_error"
