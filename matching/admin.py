"""The Django admin for matching. Runs and their results are read-only here: they are made by
the engine, and changing a stored proposal by hand would hide what the engine proposed."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.urls import reverse
from django.utils.html import format_html

from . import services
from .models import (
    MatchExclusion,
    MatchingConfig,
    MatchRun,
    MentorRequest,
    Proposal,
    Relationship,
    RelationshipMember,
    UnmatchedResult,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class MemberTotal(TypedDict):
    member_total: int  # RelationshipAdmin.get_queryset's Count("members")


@admin.register(MatchingConfig)
class MatchingConfigAdmin(admin.ModelAdmin):
    list_display = [
        "program",
        "weight_development",
        "weight_skills",
        "require_shared_language",
        "max_time_zone_gap_hours",
        "allow_past_partners",
    ]
    search_fields = ["program__name"]
    list_select_related = ["program"]


@admin.register(MatchExclusion)
class MatchExclusionAdmin(admin.ModelAdmin):
    list_display = ["cohort", "first", "second", "reason", "created_by", "created_at"]
    list_filter = ["cohort__program"]
    search_fields = ["first__user__display_name", "second__user__display_name", "reason"]
    list_select_related = ["cohort__program", "first__user", "second__user", "created_by"]
    autocomplete_fields = ["first", "second"]


class UnmatchedInline(admin.TabularInline):
    model = UnmatchedResult
    extra = 0
    can_delete = False
    readonly_fields = ["enrolment", "reason_code", "reason"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MatchRun)
class MatchRunAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "cohort",
        "status",
        "objective",
        "matched_count",
        "unmatched_count",
        "objective_value",
        "duration_seconds",
        "published_at",
        "created_at",
    ]
    list_filter = ["status", "objective", "cohort__program"]
    search_fields = ["cohort__name", "cohort__program__name"]
    list_select_related = ["cohort__program"]
    readonly_fields = [f.name for f in MatchRun._meta.fields]
    inlines = [UnmatchedInline]
    actions = ["publish_accepted"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Publish the accepted pairs of the selected runs")
    def publish_accepted(self, request, queryset):
        for run in queryset:
            try:
                job = services.match_run_publish(run=run, published_by=request.user)
            except ValidationError as error:
                self.message_user(
                    request, f"Run {run.pk}: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                # A worker publishes in the background; the job's row shows how far it got.
                url = reverse("admin:programs_bulkjob_change", args=[job.pk])
                self.message_user(
                    request,
                    format_html(
                        'Run {}: publishing {} accepted pair(s): <a href="{}">{}</a>.',
                        run.pk,
                        job.total,
                        url,
                        job.get_status_display().lower(),
                    ),
                    messages.SUCCESS,
                )


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ["run", "mentor", "mentee", "score", "decision", "locked", "circle_number"]
    list_filter = ["decision", "locked", "run__cohort__program"]
    search_fields = ["mentor__user__display_name", "mentee__user__display_name"]
    list_select_related = ["run__cohort", "mentor__user", "mentee__user"]
    readonly_fields = [f.name for f in Proposal._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


class RelationshipMemberInline(admin.TabularInline):
    model = RelationshipMember
    extra = 0
    autocomplete_fields = ["enrolment"]


@admin.register(Relationship)
class RelationshipAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "people",
        "program",
        "cohort",
        "kind",
        "status",
        "member_count",
        "score",
        "started_at",
        "ended_at",
    ]
    list_filter = ["status", "kind", "outcome", "cohort__program"]
    search_fields = ["members__enrolment__user__display_name", "members__enrolment__user__email"]
    list_select_related = ["cohort__program"]
    readonly_fields = ["source_run", "replaces", "created_at"]
    inlines = [RelationshipMemberInline]

    def get_queryset(self, request):
        # The members' names come with the page in one more query, whatever its length.
        members = RelationshipMember.objects.select_related("enrolment__user").order_by(
            "-role", "pk"
        )
        return (
            super()
            .get_queryset(request)
            .annotate(member_total=Count("members"))
            .prefetch_related(Prefetch("members", queryset=members))
        )

    @admin.display(description="Members", ordering="member_total")
    def member_count(self, relationship: WithAnnotations[Relationship, MemberTotal]) -> int:
        return relationship.member_total

    @admin.display(description="People")
    def people(self, relationship: Relationship) -> str:
        """Who is in it, mentors first: "Maya Mentor (mentor), Mo Mentee (mentee)"."""
        return ", ".join(
            f"{m.enrolment.user.display_name or m.enrolment.user.email} "
            f"({m.get_role_display().lower()})"
            for m in relationship.members.all()
        )

    @admin.display(description="Program", ordering="cohort__program__name")
    def program(self, relationship: Relationship) -> str:
        return relationship.cohort.program.name


@admin.register(MentorRequest)
class MentorRequestAdmin(admin.ModelAdmin):
    list_display = ["mentee", "mentor", "rank", "status", "sent_at", "respond_by", "responded_at"]
    list_filter = ["status", "cohort__program"]
    search_fields = ["mentee__user__display_name", "mentor__user__display_name"]
    list_select_related = ["mentee__user", "mentor__user", "cohort"]
    readonly_fields = ["relationship", "created_at"]
