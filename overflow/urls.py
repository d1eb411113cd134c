"""Included by ``teams.urls`` under ``manage/teams/<team_id>/overflow/``."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.team_policy, name="team-overflow"),
]
