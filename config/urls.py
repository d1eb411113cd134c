from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from integrations.api import WebhookDeliveryViewSet, WebhookEndpointViewSet
from leads.api.views import HandoffView, LeadViewSet
from overflow.api import OverflowPolicyView
from reports.api import LeadExportView, SummaryView
from routing.api import RoutingRuleViewSet, TeamPreviewView
from teams.api import SkillViewSet, TeamViewSet


class OptionalSlashRouter(SimpleRouter):
    """``/api/v1/leads`` and ``/api/v1/leads/`` both work: clients post to either."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("leads", LeadViewSet, basename="lead")
router.register("teams", TeamViewSet, basename="team")
router.register("webhooks", WebhookEndpointViewSet, basename="api-webhook")
router.register("webhook-deliveries", WebhookDeliveryViewSet,
                basename="api-webhook-delivery")
router.register("routing-rules", RoutingRuleViewSet, basename="routing-rule")
router.register("skills", SkillViewSet, basename="skill")

# Swagger UI's own files still come from drf-spectacular's default CDN: only this page's
# policy allows it (scripts, styles, favicon). Its initialisation script is a separate
# request (the split view), so no inline script is needed here either.
SWAGGER_UI_CDN = "https://cdn.jsdelivr.net"
API_DOCS = csp_update({"script-src": [SWAGGER_UI_CDN], "style-src": [SWAGGER_UI_CDN],
                       "img-src": [SWAGGER_UI_CDN, "data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs.html")
)

urlpatterns = [
    # Before the router: its leads/{pk} would take "export" for an id.
    path("api/v1/leads/export", LeadExportView.as_view(), name="lead-export"),
    path("api/v1/reports/summary", SummaryView.as_view(), name="reports-summary"),
    path("api/v1/", include(router.urls)),
    path(
        "api/v1/teams/<slug:slug>/overflow-policy",
        OverflowPolicyView.as_view(),
        name="overflow-policy",
    ),
    path("api/v1/teams/<slug:slug>/preview", TeamPreviewView.as_view(), name="team-preview-api"),
    path("api/v1/handoffs", HandoffView.as_view(), name="handoff"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", API_DOCS, name="api-docs"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("accounts.urls")),
    path("", include("teams.urls")),
    path("", include("leads.urls")),
    path("", include("integrations.urls")),
    path("", include("reports.urls")),
    # Data and privacy (pages and API) for managers; /healthz, /readyz and /metrics are
    # answered by ops.probes.ProbeMiddleware before any URL is resolved.
    path("", include("ops.urls")),
]
