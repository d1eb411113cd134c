from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("language/", views.language, name="language"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(),
         name="password-reset-done"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="password-reset-confirm"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(),
         name="password-reset-complete"),
    path("manage/people/invitations/", views.invitation_list, name="invitation-list"),
    path("manage/people/invitations/<int:invitation_id>/resend/", views.invitation_resend,
         name="invitation-resend"),
    path("manage/people/invitations/<int:invitation_id>/revoke/", views.invitation_revoke,
         name="invitation-revoke"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("signup/", views.signup, name="signup"),
    path("signup/sent/", views.signup_sent, name="signup-sent"),
    path("signup/confirm/resend/", views.signup_confirmation_resend,
         name="signup-confirm-resend"),
    path("signup/confirm/<str:token>/", views.signup_confirm, name="signup-confirm"),
    path("dev/outbox/", views.dev_outbox, name="dev-outbox"),
    path("organization/switch/", views.organization_switch, name="organization-switch"),
]
