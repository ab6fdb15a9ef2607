"""The Django admin for what the dashboards record: nudges, read-only (a nudge is sent from
the dashboard, where the once-a-day rule and the notification live)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Nudge


@admin.register(Nudge)
class NudgeAdmin(admin.ModelAdmin):
    list_display = ["day", "relationship", "program", "nudged_by", "recipients", "created_at"]
    list_filter = ["day", "relationship__cohort__program"]
    search_fields = [
        "relationship__members__enrolment__user__display_name",
        "relationship__members__enrolment__user__email",
        "nudged_by__display_name",
    ]
    list_select_related = ["relationship__cohort__program", "nudged_by"]
    readonly_fields = ["relationship", "day", "nudged_by", "recipients", "created_at"]
    date_hierarchy = "day"

    @admin.display(description="Program", ordering="relationship__cohort__program__name")
    def program(self, nudge: Nudge) -> str:
        return nudge.relationship.cohort.program.name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
