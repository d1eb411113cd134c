from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SourcesConfig(AppConfig):
    name = "sources"
    verbose_name = _("Lead sources")

    def ready(self):
        from audit.templatetags.audit_tags import value_labels_register
        from leads.models import Lead

        from .models import Source

        # The audit log names a source's kind and its leads' origin in words, not codes.
        value_labels_register("kind", Source.Kind.choices)
        value_labels_register("lead_source", Lead.Source.choices)
