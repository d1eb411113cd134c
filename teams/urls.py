from django.urls import path

from . import views

urlpatterns = [
    path("presence/", views.presence, name="presence"),
]
