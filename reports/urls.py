from django.urls import path

from . import views

urlpatterns = [
    # The managers' landing page.
    path("manage/", views.dashboard, name="dashboard"),
    path("manage/reports/leads.csv", views.leads_csv, name="reports-leads-csv"),
    path("manage/reports/attendants.csv", views.attendants_csv, name="reports-attendants-csv"),
]
