from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("presence/", views.presence, name="presence"),
    path("preferences/", views.preferences, name="preferences"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:lead_id>/assign/", views.lead_assign_to_me, name="lead-assign-me"),
    path("leads/<int:lead_id>/transfer/", views.lead_transfer, name="lead-transfer"),
    path("leads/<int:lead_id>/conclude/", views.lead_conclude, name="lead-conclude"),
    path("leads/<int:lead_id>/reopen/", views.lead_reopen, name="lead-reopen"),
    path("leads/<int:lead_id>/stage/", views.lead_stage, name="lead-stage"),
    path("leads/<int:lead_id>/note/", views.lead_note, name="lead-note"),
]
