from django.urls import path

from gallery import api, views

app_name = "gallery"
urlpatterns = [
    path("gallery/", views.index, name="index"),
    path("gallery/delete/", views.delete, name="delete"),
    path("explore/", views.explore, name="explore"),
    path("u/<username:username>/", views.profile, name="profile"),
    path("compose/<pid:background_id>/", views.compose, name="compose"),
    path("c/<pid:creation_id>/", views.detail, name="detail"),
    path("c/<pid:creation_id>/edit/", views.edit, name="edit"),
    path("s/<pid:token>/", views.shared, name="shared"),
    path("api/v1/characters/", api.CharacterListApi.as_view(), name="api-characters"),
    path("api/v1/creations/", api.CreationCreateApi.as_view(), name="api-creations"),
    path("api/v1/creations/<pid:creation_id>/", api.CreationDetailApi.as_view(), name="api-creation"),
    path("api/v1/creations/<pid:creation_id>/share-link/", api.CreationShareLinkApi.as_view(), name="api-share"),
    path("api/v1/creations/<pid:creation_id>/remix/", api.CreationRemixApi.as_view(), name="api-remix"),
    path(
        "api/v1/creations/<pid:creation_id>/generate-similar/",
        api.CreationGenerateSimilarApi.as_view(),
        name="api-generate-similar",
    ),
    path("api/v1/creations/<pid:creation_id>/like/", api.CreationLikeApi.as_view(), name="api-like"),
    path("api/v1/creations/<pid:creation_id>/report/", api.CreationReportApi.as_view(), name="api-report"),
]
