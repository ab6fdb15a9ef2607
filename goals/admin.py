"""The Django admin for life inside relationships. Useful for support, but private notes and
reflections stay private here too: their text (and a reflection's prompt, which may be the
author's own words) is never listed, shown, searched or editable, and nobody adds one for
someone else. The calendar token is a secret link and is not shown either."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import (
    Agreement,
    AgreementSignature,
    CalendarFeed,
    CheckIn,
    CheckInComment,
    CheckInGoalProgress,
    Goal,
    GoalChange,
    Milestone,
    PrivateNote,
    Pulse,
    Reflection,
    SurveyAnswer,
    SurveyResponse,
)

MEMBER_SEARCH = ["relationship__members__enrolment__user__email"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable and deletable, never added or changed by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AgreementSignatureInline(admin.TabularInline):
    model = AgreementSignature
    extra = 0
    can_delete = False
    readonly_fields = ["member", "version", "signed_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["relationship", "version", "meeting_cadence_days", "meeting_mode", "updated_at"]
    list_filter = ["meeting_mode", "relationship__cohort__program"]
    search_fields = MEMBER_SEARCH
    list_select_related = ["relationship__cohort"]
    readonly_fields = ["relationship", "version", "updated_by", "updated_at"]
    inlines = [AgreementSignatureInline]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


class GoalChangeInline(admin.TabularInline):
    model = GoalChange
    extra = 0
    can_delete = False
    readonly_fields = ["changed_by", "changed_at", "field", "old_value", "new_value"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Goal)
class GoalAdmin(admin.ModelAdmin):
    list_display = ["title", "relationship", "owner", "status", "progress", "target_date"]
    list_filter = ["status", "relationship__cohort__program"]
    search_fields = ["title", "measure", *MEMBER_SEARCH]
    list_select_related = ["relationship__cohort", "owner__enrolment__user"]
    readonly_fields = ["relationship", "owner", "created_by", "created_at", "updated_at"]
    inlines = [MilestoneInline, GoalChangeInline]


class CheckInGoalProgressInline(admin.TabularInline):
    model = CheckInGoalProgress
    extra = 0
    readonly_fields = ["goal"]


class CheckInCommentInline(admin.TabularInline):
    model = CheckInComment
    extra = 0
    readonly_fields = ["author", "created_at"]


class PulseInline(admin.TabularInline):
    model = Pulse
    extra = 0
    readonly_fields = ["author", "usefulness", "line", "created_at"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    # No inline of private notes: they are the author's only.
    list_display = ["met_on", "relationship", "logged_by", "mode", "confirmed_at"]
    list_filter = ["mode", "relationship__cohort__program"]
    search_fields = ["summary", *MEMBER_SEARCH]
    date_hierarchy = "met_on"
    list_select_related = ["relationship__cohort", "logged_by__enrolment__user"]
    readonly_fields = ["relationship", "logged_by", "confirmed_by", "confirmed_at", "created_at"]
    inlines = [CheckInGoalProgressInline, CheckInCommentInline, PulseInline]


@admin.register(PrivateNote)
class PrivateNoteAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "author", "relationship", "check_in", "created_at"]
    list_filter = ["relationship__cohort__program"]
    search_fields = ["author__email", "author__display_name"]  # never the text
    list_select_related = ["author", "relationship__cohort", "check_in"]
    fields = ("author", "relationship", "check_in", "created_at", "updated_at")
    exclude = ["text"]
    readonly_fields = fields


@admin.register(Reflection)
class ReflectionAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "author", "relationship", "stage", "shared", "created_at"]
    list_filter = ["stage", "shared", "relationship__cohort__program"]
    search_fields = ["author__email", "author__display_name"]  # never the text or prompt
    list_select_related = ["author", "relationship__cohort"]
    fields = ("author", "relationship", "stage", "shared", "created_at", "updated_at")
    exclude = ["text", "prompt"]
    readonly_fields = fields


@admin.register(Pulse)
class PulseAdmin(ReadOnlyAdmin):
    list_display = ["check_in", "author", "usefulness", "line", "created_at"]
    list_filter = ["usefulness", "check_in__relationship__cohort__program"]
    search_fields = ["line", "author__enrolment__user__email"]
    list_select_related = ["check_in", "author__enrolment__user"]


class SurveyAnswerInline(admin.TabularInline):
    model = SurveyAnswer
    extra = 0
    can_delete = False
    readonly_fields = ["question", "scale_value", "text_value", "visible_to"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "relationship", "stage", "submitted_at"]
    list_filter = ["stage", "relationship__cohort__program"]
    search_fields = MEMBER_SEARCH
    list_select_related = ["relationship__cohort", "author__enrolment__user"]
    inlines = [SurveyAnswerInline]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at"]
    search_fields = ["user__email", "user__display_name"]
    list_select_related = ["user"]
    fields = ("user", "created_at")  # never the token: it is the key to the feed
    readonly_fields = fields
