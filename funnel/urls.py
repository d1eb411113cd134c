"""The managers' funnel pages, under /manage/funnel/."""

from django.urls import path

from . import views

urlpatterns = [
    path("manage/funnel/", views.stages, name="funnel-stages"),
    path("manage/funnel/stages/new/", views.stage_create, name="funnel-stage-create"),
    path("manage/funnel/stages/<slug:key>/name/", views.stage_rename, name="funnel-stage-rename"),
    path("manage/funnel/stages/<slug:key>/move/", views.stage_move, name="funnel-stage-move"),
    path("manage/funnel/stages/<slug:key>/active/", views.stage_active,
         name="funnel-stage-active"),
    path("manage/funnel/lost-reasons/new/", views.lost_reason_create,
         name="funnel-lost-reason-create"),
    path("manage/funnel/lost-reasons/<slug:key>/name/", views.lost_reason_rename,
         name="funnel-lost-reason-rename"),
    path("manage/funnel/lost-reasons/<slug:key>/active/", views.lost_reason_active,
         name="funnel-lost-reason-active"),
    path("manage/funnel/scoring/", views.scoring_rule_list, name="funnel-scoring-rule-list"),
    path("manage/funnel/scoring/new/", views.scoring_rule_create,
         name="funnel-scoring-rule-create"),
    path("manage/funnel/scoring/<int:rule_id>/", views.scoring_rule_edit,
         name="funnel-scoring-rule-edit"),
    path("manage/funnel/scoring/<int:rule_id>/delete/", views.scoring_rule_delete,
         name="funnel-scoring-rule-delete"),
]
