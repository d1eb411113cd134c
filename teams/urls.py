from django.urls import include, path

from . import views

urlpatterns = [
    # The managers' pages. /manage/ itself is their dashboard (reports).
    path("manage/teams/", views.team_list, name="team-list"),
    path("manage/teams/new/", views.team_create, name="team-create"),
    path("manage/teams/<int:team_id>/", views.team_detail, name="team-detail"),
    path("manage/teams/<int:team_id>/edit/", views.team_edit, name="team-edit"),
    path("manage/teams/<int:team_id>/archive/", views.team_archive, name="team-archive"),
    path("manage/teams/<int:team_id>/hours/", views.team_hours, name="team-hours"),
    path("manage/teams/<int:team_id>/members/add/", views.team_member_add,
         name="team-member-add"),
    path("manage/teams/<int:team_id>/members/", views.team_members_save,
         name="team-members-save"),
    path("manage/teams/<int:team_id>/members/<int:member_id>/", views.team_member_update,
         name="team-member-update"),
    path("manage/teams/<int:team_id>/members/<int:member_id>/move/", views.team_member_move,
         name="team-member-move"),
    path("manage/teams/<int:team_id>/members/<int:member_id>/remove/",
         views.team_member_remove, name="team-member-remove"),
    # The overflow policy page lives with overflow, which depends on teams (not the reverse).
    path("manage/teams/<int:team_id>/overflow/", include("overflow.urls")),
    # The routing rules and each team's preview live with routing, which reads teams.
    path("manage/", include("routing.urls")),
    path("manage/people/", views.person_list, name="person-list"),
    path("manage/people/skills/", views.skill_list, name="person-skill-list"),
    path("manage/people/skills/<int:skill_id>/delete/", views.skill_delete,
         name="person-skill-delete"),
    path("manage/people/new/", views.person_create, name="person-create"),
    path("manage/people/<int:membership_id>/", views.person_detail, name="person-detail"),
    path("manage/people/<int:membership_id>/active/", views.person_active,
         name="person-active"),
    path("manage/people/<int:membership_id>/ownership/", views.person_ownership,
         name="person-ownership"),
    path("manage/people/<int:membership_id>/skills/", views.person_skills,
         name="person-skills"),
    path("manage/api-keys/", views.api_key_list, name="api-key-list"),
    path("manage/api-keys/new/", views.api_key_create, name="api-key-create"),
    path("manage/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("manage/settings/", views.organization_settings, name="organization-settings"),
]
