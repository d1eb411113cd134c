from django.urls import path, re_path

from . import api, views

exports = api.DataExportViewSet
erasures = api.ErasureViewSet

urlpatterns = [
    path("manage/data/", views.data_page, name="ops-data"),
    path("manage/data/exports/", views.export_create, name="ops-export-create"),
    path("manage/data/exports/<int:export_id>/download/", views.export_download,
         name="ops-export-download"),
    path("manage/data/erasures/", views.erasure_create, name="ops-erasure-create"),
    path("manage/data/retention/", views.retention_update, name="ops-retention"),
    # The API; with or without the trailing slash, as the other endpoints.
    re_path(r"^api/v1/exports/?$", exports.as_view({"get": "list", "post": "create"}),
            name="api-export-list"),
    re_path(r"^api/v1/exports/(?P<pk>[0-9]+)/?$", exports.as_view({"get": "retrieve"}),
            name="api-export-detail"),
    re_path(r"^api/v1/exports/(?P<pk>[0-9]+)/download/?$",
            exports.as_view({"get": "download"}), name="api-export-download"),
    re_path(r"^api/v1/erasures/?$", erasures.as_view({"get": "list", "post": "create"}),
            name="api-erasure-list"),
    re_path(r"^api/v1/retention/?$", api.RetentionView.as_view(), name="api-retention"),
]
