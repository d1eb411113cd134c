"""Django's admin, for platform superusers: who was invited where, and which sign-ups wait
for their owner's confirmation. Read-only: invitations are made and revoked on the managers'
pages or with ``create_org``; a sign-up is confirmed by its link."""

from django.contrib import admin

from .models import Invitation, SignUp


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(_ReadOnly):
    list_display = ["email", "organization", "role", "created_at", "expires_at", "accepted_at",
                    "revoked_at"]
    list_filter = ["organization", "role"]
    list_select_related = ["organization"]
    search_fields = ["email"]
    exclude = ["token_hash"]


@admin.register(SignUp)
class SignUpAdmin(_ReadOnly):
    list_display = ["organization", "user", "created_at", "confirmed_at"]
    list_select_related = ["organization", "user"]
    exclude = ["token_hash"]
