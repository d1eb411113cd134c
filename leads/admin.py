from django.contrib import admin

from history.models import LeadEvent

from .models import Lead


class LeadEventInline(admin.TabularInline):
    model = LeadEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "type", "actor_kind", "from_member", "to_member", "reason"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organization", "team", "assignee", "status", "overflow_active"]
    list_filter = ["organization", "status", "source"]
    list_select_related = ["organization", "team", "assignee__user"]
    inlines = [LeadEventInline]
    readonly_fields = ["transfer_count", "overflow_due_at", "overflow_active", "overflow_reason"]
