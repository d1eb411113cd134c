from django.urls import path

from . import views

urlpatterns = [
    path("manage/imports/", views.imports_page, name="imports-list"),
    path("manage/imports/<int:import_id>/", views.import_detail, name="imports-detail"),
    path("manage/imports/<int:import_id>/report.csv", views.import_report,
         name="imports-report"),
]
