from django.urls import path

from . import views

urlpatterns = [
    path("live/inbox/", views.inbox_stream, name="live-inbox"),
]
