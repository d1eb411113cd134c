"""Included by ``teams.urls`` under ``manage/``: the routing rules and each team's preview."""

from django.urls import path

from . import views

urlpatterns = [
    path("routing-rules/", views.rule_list, name="routing-rule-list"),
    path("routing-rules/new/", views.rule_create, name="routing-rule-create"),
    path("routing-rules/<int:rule_id>/", views.rule_edit, name="routing-rule-edit"),
    path("routing-rules/<int:rule_id>/move/", views.rule_move, name="routing-rule-move"),
    path("routing-rules/<int:rule_id>/delete/", views.rule_delete, name="routing-rule-delete"),
    path("teams/<int:team_id>/preview/", views.team_preview, name="team-preview"),
]
