from django.urls import path

from . import views

urlpatterns = [
    path("manage/start/", views.start, name="onboarding-start"),
    path("manage/start/test-lead/", views.test_lead, name="onboarding-test-lead"),
    path("manage/start/hide/", views.dismiss, name="onboarding-dismiss"),
]
