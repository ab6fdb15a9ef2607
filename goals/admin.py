"""The Django admin for life inside relationships. Useful for support, but private notes and
reflections stay private here too: their text (and a reflection's prompt, which may be the
author's own words) is never listed, shown, searched or editable, and nobody adds one for
someone else. The calendar token is a secret link and is not shown either."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest

from matching.admin import RelationshipAdmin
from matching.models import Relationship

from .health import LABELS, Health
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
    ReadinessRating,
    Reflection,
    SurveyAnswer,
    SurveyResponse,
)
from .selectors import health_for

# A person's name or email finds everything of the relationships they are in.
MEMBER_SEARCH = [
    "relationship__members__enrolment__user__display_name",
    "relationship__members__enrolment__user__email",
]


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


class ReadinessRatingInline(admin.TabularInline):
    model = ReadinessRating
    extra = 0
    can_delete = False
    readonly_fields = ["mentee", "readiness"]

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "relationship", "stage", "submitted_at"]
    list_filter = ["stage", "relationship__cohort__program"]
    search_fields = MEMBER_SEARCH
    list_select_related = ["relationship__cohort", "author__enrolment__user"]
    inlines = [SurveyAnswerInline, ReadinessRatingInline]


# --- Relationships, with their health -------------------------------------------------------
# The matching app lists relationships (members' names, program); their health is judged here,
# above it, so the admin that shows it is matching's, extended and registered again here.


def _health_of_active(queryset: QuerySet[Relationship]) -> dict[int, Health]:
    active = list(
        queryset.filter(status=Relationship.Status.ACTIVE)
        .prefetch_related(None)  # the list's members are for the page, not needed here
        .select_related("cohort__program")
        .only(
            "pk",
            "started_at",
            "cohort__program__meeting_cadence_days",
            "cohort__program__length_weeks",
        )
    )
    return health_for(relationships=active)


class HealthListFilter(admin.SimpleListFilter):
    """Active relationships by health. Health is judged in Python (goals.health) from a fixed
    number of queries over every active relationship the other filters leave."""

    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return list(LABELS.items())

    def queryset(self, request, queryset):
        wanted = self.value()
        if wanted not in LABELS:
            return queryset
        health = _health_of_active(queryset)
        return queryset.filter(pk__in=[pk for pk, h in health.items() if h.status == wanted])


class HealthChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # The page's health in one go (a fixed number of queries), for the column to read.
        page = [r for r in self.result_list if r.status == Relationship.Status.ACTIVE]
        health = health_for(relationships=page)
        for relationship in self.result_list:
            relationship.admin_health = health.get(relationship.pk)


admin.site.unregister(Relationship)


@admin.register(Relationship)
class RelationshipHealthAdmin(RelationshipAdmin):
    list_display = [
        *RelationshipAdmin.list_display[:4],
        "health",
        *RelationshipAdmin.list_display[4:],
    ]
    list_filter = [*RelationshipAdmin.list_filter, HealthListFilter]

    def get_changelist(self, request: HttpRequest, **kwargs):
        return HealthChangeList

    @admin.display(description="Health")
    def health(self, relationship: Relationship) -> str:
        found: Health | None = getattr(relationship, "admin_health", None)
        if found is None:
            return "—"  # ended: health is for running relationships
        reasons = f": {'; '.join(found.reasons)}" if found.reasons else ""
        return f"{found.label}{reasons}"


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdmin):
    list_display = ["user", "created_at"]
    search_fields = ["user__email", "user__display_name"]
    list_select_related = ["user"]
    fields = ("user", "created_at")  # never the token: it is the key to the feed
    readonly_fields = fields
