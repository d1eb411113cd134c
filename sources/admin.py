"""Django's admin, for platform superusers: every organization's sources and their logs."""

from django.contrib import admin

from .models import Source, SourceSubmission


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "kind", "is_active", "created_at"]
    list_filter = ["kind", "is_active", "organization"]
    list_select_related = ["organization"]
    # The token and the platform secrets stay out of the admin: managers see them.
    exclude = ["token", "google_key", "typeform_secret"]


@admin.register(SourceSubmission)
class SourceSubmissionAdmin(admin.ModelAdmin):
    list_display = ["id", "source", "received_at", "outcome", "status_code"]
    list_filter = ["outcome", "organization"]
    list_select_related = ["source"]
    readonly_fields = [f.name for f in SourceSubmission._meta.fields]

    def has_add_permission(self, request):
        return False
