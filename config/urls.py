from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from audit.api import AuditEventViewSet
from audit.views import audit_log
from funnel.api import LostReasonViewSet, ScoringRuleViewSet, StageViewSet
from integrations.api import WebhookDeliveryViewSet, WebhookEndpointViewSet
from leads.api.views import HandoffView, LeadViewSet
from onboarding.views import home as onboarding_home
from overflow.api import OverflowPolicyView
from reports.api import FunnelView, LeadExportView, SummaryView
from routing.api import RoutingRuleViewSet, TeamPreviewView
from sources.api import SourceViewSet
from sources.intake import intake
from teams.api import SkillViewSet, TeamViewSet
from teams.permissions import manager_required


class OptionalSlashRouter(SimpleRouter):
    """``/api/v1/leads`` and ``/api/v1/leads/`` both work: clients post to either. The schema
    lists the first (core.schema.without_trailing_slash)."""

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
router.register("scoring-rules", ScoringRuleViewSet, basename="scoring-rule")
router.register("stages", StageViewSet, basename="stage")
router.register("lost-reasons", LostReasonViewSet, basename="lost-reason")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("sources", SourceViewSet, basename="api-source")


def api_path(route: str, view, name: str):
    """An API route outside the router that, like the router's, answers with and without a
    trailing slash. ``route`` is a regex without the leading ``api/v1/``."""
    return re_path(rf"^api/v1/{route}/?$", view, name=name)


SLUG = r"(?P<slug>[-a-zA-Z0-9_]+)"

handler404 = "core.exceptions.not_found"

urlpatterns = [
    # Before the router: its leads/{pk} would take "export" for an id.
    api_path("leads/export", LeadExportView.as_view(), name="lead-export"),
    api_path("reports/summary", SummaryView.as_view(), name="reports-summary"),
    api_path("reports/funnel", FunnelView.as_view(), name="reports-funnel"),
    path("api/v1/", include(router.urls)),
    api_path(f"teams/{SLUG}/overflow-policy", OverflowPolicyView.as_view(),
             name="overflow-policy"),
    api_path(f"teams/{SLUG}/preview", TeamPreviewView.as_view(), name="team-preview-api"),
    api_path("handoffs", HandoffView.as_view(), name="handoff"),
    # A source's public intake URL (sources.intake); the token is the secret, never logged.
    re_path(r"^in/(?P<token>[^/]{1,200})/?$", intake, name="source-intake"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's files come from drf-spectacular-sidecar's static files and its
    # initialisation script is a separate request (the split view). Its stylesheet draws
    # its icons as data: images, which this page alone allows; nothing comes from elsewhere.
    path("api/docs/", csp_update({"img-src": ["data:"]})(SpectacularSwaggerSplitView.as_view(
        url_name="schema", template_name="api_docs.html")), name="api-docs"),
    # audit imports no app of ours: the managers-only check is added here.
    path("manage/audit/", manager_required(audit_log), name="audit-log"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("accounts.urls")),
    # Before leads.urls: "/" (where a login lands) sends a new organization's managers to
    # their first steps until they are done.
    path("", onboarding_home, name="home"),
    path("", include("onboarding.urls")),
    path("", include("teams.urls")),
    path("", include("leads.urls")),
    path("", include("integrations.urls")),
    path("", include("sources.urls")),
    path("", include("reports.urls")),
    path("", include("live.urls")),
    path("", include("funnel.urls")),
    # Data and privacy (pages and API) for managers; /healthz, /readyz and /metrics are
    # answered by ops.probes.ProbeMiddleware before any URL is resolved.
    path("", include("ops.urls")),
    path("", include("imports.urls")),
]
