from django.urls import path

from generation import api, views

urlpatterns = [
    path("studio/", views.studio, name="studio"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("api/v1/events/schema.json", views.events_schema, name="api-events-schema"),
    path("api/v1/jobs/", api.JobListCreateApi.as_view(), name="api-jobs"),
    path("api/v1/jobs/<pid:job_id>/", api.JobDetailApi.as_view(), name="api-job"),
    path("api/v1/jobs/<pid:job_id>/cancel/", api.JobCancelApi.as_view(), name="api-job-cancel"),
    path("api/v1/jobs/<pid:job_id>/keep/", api.JobKeepApi.as_view(), name="api-job-keep"),
]
