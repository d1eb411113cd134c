"""The managers' admin, scoped to their organization, until the product's own pages land.

Platform superusers use Django's own admin at /admin/; this site at /manage/
shows a manager only the rows of the organization they are signed in to.
"""

from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from overflow.forms import OverflowPolicyForm
from overflow.models import OverflowPolicy

from .models import BusinessHoursException, BusinessHoursInterval, Membership, Team, TeamMember


class ManageSite(admin.AdminSite):
    site_header = _("Transbordo · management")
    site_title = _("Transbordo")
    index_title = _("Your organization")
    login_form = AuthenticationForm

    def has_permission(self, request):
        membership = getattr(request, "membership", None)
        return bool(request.user.is_active and membership and membership.is_manager)


manage_site = ManageSite(name="manage")


class OrganizationScoped:
    """Rows, choices and new objects limited to ``request.organization``."""

    organization_path = "organization"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            **{self.organization_path: request.organization}
        )

    def has_module_permission(self, request):
        return manage_site.has_permission(request)

    def has_view_permission(self, request, obj=None):
        return manage_site.has_permission(request)

    has_change_permission = has_view_permission
    has_add_permission = has_view_permission
    has_delete_permission = has_view_permission

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        model = db_field.related_model
        if model is Team:
            kwargs["queryset"] = Team.objects.for_org(request.organization)
        elif model is Membership:
            kwargs["queryset"] = Membership.objects.for_org(request.organization).select_related(
                "user"
            )
        elif model is TeamMember:
            kwargs["queryset"] = TeamMember.objects.filter(team__organization=request.organization)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedInline(OrganizationScoped, admin.TabularInline):
    organization_path = "team__organization"
    extra = 0


class TeamMemberInline(ScopedInline):
    model = TeamMember
    fields = ["membership", "order", "is_active", "capacity"]


class HoursInline(ScopedInline):
    model = BusinessHoursInterval


class HourExceptionInline(ScopedInline):
    model = BusinessHoursException


class TeamAdmin(OrganizationScoped, admin.ModelAdmin):
    list_display = ["name", "slug", "strategy", "business_hours_enabled", "is_archived"]
    fields = ["name", "slug", "strategy", "online_only", "business_hours_enabled", "is_archived"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [TeamMemberInline, HoursInline, HourExceptionInline]

    def save_model(self, request, obj, form, change):
        obj.organization = request.organization
        super().save_model(request, obj, form, change)


class MembershipAdmin(OrganizationScoped, admin.ModelAdmin):
    list_display = ["__str__", "role", "presence", "is_active"]
    fields = ["role", "presence", "is_active"]
    list_select_related = ["user"]

    def has_add_permission(self, request):
        return False  # people are invited in the product's pages (later)


class OverflowPolicyAdmin(OrganizationScoped, admin.ModelAdmin):
    organization_path = "team__organization"
    form = OverflowPolicyForm
    list_display = ["team", "enabled", "service_minutes", "max_transfers"]
    list_select_related = ["team"]

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        organization = request.organization

        class ScopedForm(form_class):
            def __init__(self, *args, **kw):
                kw.setdefault("organization", organization)
                super().__init__(*args, **kw)

        return ScopedForm

    def get_fields(self, request, obj=None):
        return ["team", "enabled", "service_minutes", "max_transfers", "include_bot_leads",
                "further_teams"]

    def save_form(self, request, form, change):
        return form.save()  # policy_save: the policy and its chain in one transaction

    def save_model(self, request, obj, form, change):
        """Already saved by ``save_form``."""


manage_site.register(Team, TeamAdmin)
manage_site.register(Membership, MembershipAdmin)
manage_site.register(OverflowPolicy, OverflowPolicyAdmin)
