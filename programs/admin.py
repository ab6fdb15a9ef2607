"""The Django admin for programs: useful for admins, and every write goes through the same
services the coordinator pages use, so the rules hold here too."""

from __future__ import annotations

import csv
from collections import defaultdict
from typing import TYPE_CHECKING, TypedDict

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from . import services
from .imports import csv_cell
from .models import (
    BulkJob,
    Cohort,
    CohortQuestion,
    Competency,
    CompetencySynonym,
    Enrolment,
    EnrolmentCompetency,
    FeedbackQuestion,
    Invitation,
    ParticipantImport,
    Program,
)
from .selectors import EXPORT_COLUMNS, enrolment_export_rows

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


# What each list's queryset annotates, for the columns that show it.
class _CohortTotal(TypedDict):
    cohort_total: int


class _ParticipantTotal(TypedDict):
    participant_total: int


class _UseCount(TypedDict):
    use_count: int


class FeedbackQuestionInline(admin.TabularInline):
    model = FeedbackQuestion
    extra = 0


class CohortInline(admin.TabularInline):
    model = Cohort
    extra = 0
    fields = ["name", "status", "starts_on", "ends_on"]
    readonly_fields = ["status"]
    show_change_link = True


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "meeting_cadence_days", "mentees_may_request", "cohort_count"]
    list_filter = ["kind", "mentees_may_request", "allows_external_mentors"]
    search_fields = ["name", "description", "coordinators__email", "coordinators__display_name"]
    filter_horizontal = ["coordinators"]
    inlines = [CohortInline, FeedbackQuestionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(cohort_total=Count("cohorts"))

    @admin.display(description="Cohorts", ordering="cohort_total")
    def cohort_count(self, program: WithAnnotations[Program, _CohortTotal]) -> int:
        return program.cohort_total


class CohortQuestionInline(admin.TabularInline):
    model = CohortQuestion
    extra = 0


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "status", "starts_on", "ends_on", "participants"]
    list_filter = ["status", "program__kind", "program"]
    search_fields = ["name", "program__name"]
    date_hierarchy = "starts_on"
    list_select_related = ["program"]
    readonly_fields = ["status", "final_feedback_opened_at", "closed_at", "cloned_from"]
    inlines = [CohortQuestionInline]
    actions = ["advance", "export_participants"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(participant_total=Count("enrolments"))

    @admin.action(description="Move selected cohorts to their next step")
    def advance(self, request: HttpRequest, queryset: QuerySet[Cohort]):
        for cohort in queryset.select_related("program"):
            forward = services.COHORT_NEXT_STATUSES[cohort.status][:1]
            if not forward:
                self.message_user(request, f"{cohort}: already closed.", messages.WARNING)
                continue
            try:
                moved = services.cohort_transition(cohort=cohort, to_status=forward[0])
            except ValidationError as error:
                self.message_user(request, f"{cohort}: {' '.join(error.messages)}", messages.ERROR)
            else:
                label = moved.get_status_display().lower()
                self.message_user(request, f"{cohort}: now {label}.", messages.SUCCESS)

    @admin.display(description="Participants", ordering="participant_total")
    def participants(self, cohort: WithAnnotations[Cohort, _ParticipantTotal]) -> int:
        return cohort.participant_total

    @admin.action(description="Export participants of the selected cohorts (CSV)")
    def export_participants(self, request: HttpRequest, queryset: QuerySet[Cohort]):
        return _csv_response(queryset)


def _csv_response(cohorts: QuerySet[Cohort]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="participants-{stamp}.csv"'
    response.write("\ufeff")  # so Excel reads UTF-8
    writer = csv.writer(response)
    writer.writerow(["Program", "Cohort", *[label for _, label in EXPORT_COLUMNS]])
    for cohort in cohorts.select_related("program"):
        for row in enrolment_export_rows(cohort=cohort):
            writer.writerow(
                [csv_cell(cohort.program.name), csv_cell(cohort.name), *map(csv_cell, row)]
            )
    return response


class EnrolmentCompetencyInline(admin.TabularInline):
    model = EnrolmentCompetency
    extra = 0
    autocomplete_fields = ["competency"]


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["user", "cohort", "role", "status", "capacity", "status_changed_at"]
    list_filter = ["status", "role", "cohort__program", "cohort"]
    search_fields = ["user__email", "user__display_name", "cohort__name"]
    list_select_related = ["user", "cohort__program"]
    autocomplete_fields = ["user", "cohort"]
    readonly_fields = ["status_changed_at", "created_at", "updated_at"]
    inlines = [EnrolmentCompetencyInline]
    actions = ["approve", "waitlist", "decline", "export"]

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Enrolment], status: str):
        by_cohort: dict[int, list[int]] = defaultdict(list)
        for enrolment_id, cohort_id in queryset.values_list("pk", "cohort_id"):
            by_cohort[cohort_id].append(enrolment_id)
        changed = skipped = 0
        for cohort in Cohort.objects.filter(pk__in=by_cohort):
            result = services.enrolment_set_status(
                cohort=cohort, enrolment_ids=by_cohort[cohort.pk], status=status
            )
            changed += result.changed
            skipped += result.skipped_withdrawn
        label = Enrolment.Status(status).label.lower()
        self.message_user(request, f"{changed} enrolment(s) {label}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"{skipped} withdrew and were left unchanged.", messages.WARNING
            )

    @admin.action(description="Approve selected enrolments")
    def approve(self, request, queryset):
        self._set_status(request, queryset, Enrolment.Status.APPROVED)

    @admin.action(description="Waitlist selected enrolments")
    def waitlist(self, request, queryset):
        self._set_status(request, queryset, Enrolment.Status.WAITLISTED)

    @admin.action(description="Decline selected enrolments")
    def decline(self, request, queryset):
        self._set_status(request, queryset, Enrolment.Status.DECLINED)

    @admin.action(description="Export the cohorts of the selected enrolments (CSV)")
    def export(self, request, queryset):
        return _csv_response(Cohort.objects.filter(pk__in=queryset.values("cohort_id")))


class CompetencySynonymInline(admin.TabularInline):
    model = CompetencySynonym
    extra = 1


@admin.register(Competency)
class CompetencyAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "synonym_list", "uses", "suggested_by", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "synonyms__name"]
    list_select_related = ["suggested_by"]
    inlines = [CompetencySynonymInline]
    actions = ["approve", "merge_into_most_used"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(use_count=Count("enrolments", distinct=True))
            .prefetch_related("synonyms")
        )

    @admin.display(description="Uses", ordering="use_count")
    def uses(self, competency: WithAnnotations[Competency, _UseCount]) -> int:
        return competency.use_count

    @admin.display(description="Synonyms")
    def synonym_list(self, competency: Competency) -> str:
        return ", ".join(s.name for s in competency.synonyms.all())

    @admin.action(description="Approve selected terms")
    def approve(self, request, queryset):
        for competency in queryset:
            services.competency_approve(competency=competency)
        self.message_user(request, f"{queryset.count()} term(s) approved.", messages.SUCCESS)

    @admin.action(description="Merge selected terms into the most used of them")
    def merge_into_most_used(self, request, queryset):
        terms = sorted(queryset, key=lambda c: (-c.use_count, c.status != "approved", c.pk))
        if len(terms) < 2:
            self.message_user(request, "Select at least two terms to merge.", messages.ERROR)
            return
        target, sources = terms[0], terms[1:]
        try:
            for source in sources:
                services.competency_merge(source=source, target=target)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), messages.ERROR)
            return
        names = ", ".join(f"“{s.name}”" for s in sources)
        self.message_user(request, f"{names} merged into “{target.name}”.", messages.SUCCESS)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "cohort", "role", "is_external", "created_at", "state"]
    list_filter = ["role", "is_external", "cohort__program", "created_at"]
    search_fields = ["email", "cohort__name", "cohort__program__name"]
    list_select_related = ["cohort__program"]
    # The token is the secret in the link: never shown, even to admins.
    exclude = ["token"]
    readonly_fields = ["created_at", "accepted_at", "accepted_by", "renewal_requested_at"]
    autocomplete_fields = ["cohort", "invited_by"]

    @admin.display(description="State")
    def state(self, invitation: Invitation) -> str:
        if invitation.is_used:
            return "accepted"
        return "expired" if invitation.is_expired else "pending"


@admin.register(ParticipantImport)
class ParticipantImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "cohort", "uploaded_by", "status", "imported_count", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["filename", "cohort__name"]
    list_select_related = ["cohort__program", "uploaded_by"]
    exclude = ["rows"]
    readonly_fields = [
        "cohort",
        "uploaded_by",
        "filename",
        "headers",
        "mapping",
        "status",
        "imported_count",
        "created_at",
        "imported_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    """Jobs over many people, read-only: how far each got, and why one failed. A failed or stalled
    job continues when its coordinator presses the same button again (or by itself within
    minutes, through the periodic resume)."""

    list_display = ["title", "kind", "cohort", "status", "done", "total", "created_at"]
    list_filter = ["kind", "status", "created_at"]
    search_fields = ["title", "key", "cohort__name"]
    list_select_related = ["cohort__program"]
    # The payload lists every invitee's address: long, and nothing an admin acts on.
    exclude = ["payload"]
    readonly_fields = [f.name for f in BulkJob._meta.fields if f.name != "payload"]

    def has_add_permission(self, request) -> bool:
        return False
