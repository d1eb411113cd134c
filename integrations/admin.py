"""Django's admin, for platform superusers: every organization's endpoints and deliveries."""

from django.contrib import admin

from .models import WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["url", "organization", "is_active", "created_at"]
    list_filter = ["organization", "is_active"]
    list_select_related = ["organization"]
    # The signing secret stays out of the admin; managers rotate it on their page.
    exclude = ["secret"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "endpoint", "event", "status", "attempts", "last_status_code",
                    "next_attempt_at", "delivered_at"]
    list_filter = ["status", "organization"]
    list_select_related = ["endpoint", "event"]
    raw_id_fields = ["endpoint", "event"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False  # deliveries come only from events
