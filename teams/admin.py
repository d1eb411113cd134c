"""Django's admin, for platform superusers only: every organization's rows."""

from django.contrib import admin

from .models import (
    ApiKey,
    BusinessHoursException,
    BusinessHoursInterval,
    Membership,
    Organization,
    Team,
    TeamMember,
)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "time_zone", "language"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "presence", "is_active"]
    list_filter = ["organization", "role"]
    list_select_related = ["user", "organization"]


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0


class HoursInline(admin.TabularInline):
    model = BusinessHoursInterval
    extra = 0


class HourExceptionInline(admin.TabularInline):
    model = BusinessHoursException
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "slug", "strategy"]
    list_filter = ["organization"]
    inlines = [TeamMemberInline, HoursInline, HourExceptionInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "last_used_at"]
