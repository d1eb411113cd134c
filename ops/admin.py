"""The operator's actions on organizations in Django's admin (superusers only): suspend,
reactivate, delete after an export, and the limits. Replaces the plain registration of
``teams.admin``, which cannot reach the export (it lives here, above it)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from audit.services import Action, Area, audit_record, diff
from leads.models import Lead
from teams.admin import OrganizationAdmin
from teams.models import Membership, Organization, Team
from teams.services.organization import organization_reactivate, organization_suspend

from .services.tenants import organization_delete

LIMIT_FIELDS = ("max_attendants", "leads_per_month")

admin.site.unregister(Organization)


@admin.register(Organization)
class OperatorOrganizationAdmin(OrganizationAdmin):
    list_display = [*OrganizationAdmin.list_display, "suspended_at", *LIMIT_FIELDS]
    list_filter = [("suspended_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["suspended_at", "suspended_reason"]
    search_fields = ["name", "slug"]
    actions = ["suspend", "reactivate"]

    @admin.action(description=_("Suspend the selected organizations"))
    def suspend(self, request, queryset):
        done = sum(organization_suspend(organization=org, actor=request.user,
                                        reason="admin") for org in queryset)
        self.message_user(request, ngettext(
            "%(n)d organization suspended.", "%(n)d organizations suspended.", done)
            % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("Reactivate the selected organizations"))
    def reactivate(self, request, queryset):
        done = sum(organization_reactivate(organization=org, actor=request.user)
                   for org in queryset)
        self.message_user(request, ngettext(
            "%(n)d organization reactivated.", "%(n)d organizations reactivated.", done)
            % {"n": done}, messages.SUCCESS)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            audit_record(
                organization=obj, actor=request.user, area=Area.ORGANIZATION,
                action=Action.CHANGED, target=obj, target_label=obj.name,
                changes=diff({f: form.initial.get(f) for f in LIMIT_FIELDS},
                             {f: getattr(obj, f) for f in LIMIT_FIELDS}))

    def get_deleted_objects(self, objs, request):
        """The confirmation page names the organizations and counts what goes with them;
        Django's default lists every related row (a million leads would be a million
        lines)."""
        organizations = list(objs)
        counts = {
            str(model._meta.verbose_name_plural): model.objects.filter(
                organization__in=organizations).count()
            for model in (Membership, Team, Lead)
        }
        return [str(org) for org in organizations], counts, set(), []

    # Django's delete (one, or the "delete selected" action, each after its confirmation
    # page) goes through the service: export first, then delete.
    def delete_model(self, request, obj):
        name = organization_delete(organization=obj, actor=request.user)
        self.message_user(request, _("%(org)s was exported to %(file)s before deletion.")
                          % {"org": obj.name, "file": name}, messages.INFO)

    def delete_queryset(self, request, queryset):
        for organization in queryset:
            self.delete_model(request, organization)
