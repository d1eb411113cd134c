from django.contrib import admin

from .models import OverflowChainStep, OverflowPolicy


class ChainInline(admin.TabularInline):
    model = OverflowChainStep
    extra = 0


@admin.register(OverflowPolicy)
class OverflowPolicyAdmin(admin.ModelAdmin):
    list_display = ["team", "enabled", "service_minutes", "max_transfers"]
    inlines = [ChainInline]
