from django.urls import path

from . import views

urlpatterns = [
    path("manage/sources/", views.source_list, name="source-list"),
    path("manage/sources/new/", views.source_create, name="source-create"),
    path("manage/sources/<int:source_id>/", views.source_detail, name="source-detail"),
    path("manage/sources/<int:source_id>/token/", views.source_rotate_token,
         name="source-rotate-token"),
    path("manage/sources/<int:source_id>/delete/", views.source_delete, name="source-delete"),
    path("manage/sources/<int:source_id>/log/", views.source_log, name="source-log"),
    path("manage/sources/submissions/<int:submission_id>/", views.submission_detail,
         name="source-submission"),
]
