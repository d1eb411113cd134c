from django.contrib import admin

from .models import LostReason, ScoringRule, Stage


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["organization", "position", "key", "name", "kind", "is_active"]
    list_filter = ["organization"]


@admin.register(LostReason)
class LostReasonAdmin(admin.ModelAdmin):
    list_display = ["organization", "key", "name", "is_active"]
    list_filter = ["organization"]


@admin.register(ScoringRule)
class ScoringRuleAdmin(admin.ModelAdmin):
    list_display = ["organization", "name", "points", "behaviour", "is_active"]
    list_filter = ["organization"]
