from django.urls import path

from . import views

urlpatterns = [
    path("manage/webhooks/", views.webhook_list, name="webhook-list"),
    path("manage/webhooks/new/", views.webhook_create, name="webhook-create"),
    path("manage/webhooks/<int:endpoint_id>/", views.webhook_detail, name="webhook-detail"),
    path("manage/webhooks/<int:endpoint_id>/active/", views.webhook_active,
         name="webhook-active"),
    path("manage/webhooks/<int:endpoint_id>/secret/", views.webhook_secret,
         name="webhook-secret"),
    path("manage/webhooks/<int:endpoint_id>/deliveries/", views.webhook_deliveries,
         name="webhook-deliveries"),
    path("manage/webhooks/deliveries/<int:delivery_id>/resend/", views.webhook_delivery_resend,
         name="webhook-delivery-resend"),
]
