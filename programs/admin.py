from django.contrib import admin
from django.db.models import Count

from .models import (
    Cohort,
    Competency,
    CompetencySynonym,
    Enrolment,
    EnrolmentCompetency,
    FeedbackQuestion,
    Program,
)


class FeedbackQuestionInline(admin.TabularInline):
    model = FeedbackQuestion
    extra = 0


class CohortInline(admin.TabularInline):
    model = Cohort
    extra = 0
    fields = ["name", "status", "starts_on", "ends_on"]
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
    def cohort_count(self, program: Program) -> int:
        return program.cohort_total


class EnrolmentCompetencyInline(admin.TabularInline):
    model = EnrolmentCompetency
    extra = 0
    autocomplete_fields = ["competency"]


@admin.register(Cohort)
class CohortAdmin(admin.ModelAdmin):
    list_display = ["name", "program", "status", "starts_on", "ends_on", "participants"]
    list_filter = ["status", "program__kind", "program"]
    search_fields = ["name", "program__name"]
    date_hierarchy = "starts_on"
    list_select_related = ["program"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(participant_total=Count("enrolments"))

    @admin.display(description="Participants", ordering="participant_total")
    def participants(self, cohort: Cohort) -> int:
        return cohort.participant_total


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["user", "cohort", "role", "status", "capacity", "updated_at"]
    list_filter = ["status", "role", "cohort__program", "cohort"]
    search_fields = ["user__email", "user__display_name", "cohort__name"]
    list_select_related = ["user", "cohort__program"]
    autocomplete_fields = ["user", "cohort"]
    inlines = [EnrolmentCompetencyInline]


class CompetencySynonymInline(admin.TabularInline):
    model = CompetencySynonym
    extra = 1


@admin.register(Competency)
class CompetencyAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "synonyms__name"]
    inlines = [CompetencySynonymInline]
