from django.contrib import admin

from .models import LeadEvent


@admin.register(LeadEvent)
class LeadEventAdmin(admin.ModelAdmin):
    """Read-only: history is append-only."""

    list_display = ["created_at", "lead", "type", "actor_kind", "from_member", "to_member"]
    list_filter = ["type"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
