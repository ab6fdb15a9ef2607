"""Coordinator pages for cohorts: creating and editing one, its enrolment dashboard, the
lifecycle steps, cloning a finished cohort, its application questions and its public link.
Cohorts are fetched through `cohort_list_visible_to`, so anyone else gets a 404."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.services import ALREADY_SAVED, AlreadySubmittedError
from common.forms import form_add_service_error, service_error_text
from common.http import AuthenticatedHttpRequest
from programs import services
from programs.forms.coordination import (
    CohortCloneForm,
    CohortCreateForm,
    CohortForm,
    CohortQuestionFormSet,
    CohortTransitionForm,
    questions_from_formset,
    questions_initial,
)
from programs.models import Cohort, Enrolment, Program
from programs.selectors import (
    MISSING_PROFILE_SHOWN,
    CohortDashboard,
    cohort_dashboard,
    cohort_list_visible_to,
    program_list_visible_to,
)

# What the coordinator is told after each step of the lifecycle.
TRANSITION_DONE = {
    Cohort.Status.DRAFT: "The cohort is back in draft.",
    Cohort.Status.ENROLLING: "Enrolment is open: share the application link or send invitations.",
    Cohort.Status.MATCHING: "Enrolment is closed and matching can start.",
    Cohort.Status.ACTIVE: "The cohort is active: relationships have begun.",
    Cohort.Status.CLOSING: "The cohort is closing: final feedback is open.",
    Cohort.Status.CLOSED: "The cohort is closed.",
}
CLONE_GAP = dt.timedelta(days=7)


def _cohort_for(request: AuthenticatedHttpRequest, pk: int) -> Cohort:
    return get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)


@login_required
def cohort_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_object_or_404(program_list_visible_to(user=request.user), pk=pk)
    form = CohortCreateForm(
        request.POST or None, program=program, initial=CohortForm.initial_for_new(program)
    )
    if request.method == "POST" and form.is_valid():
        try:
            cohort = services.cohort_create(
                program=program, created_by=request.user, **form.cleaned_data
            )
        except AlreadySubmittedError as first:
            messages.info(request, ALREADY_SAVED)
            return redirect("programs:cohort_detail", pk=first.created.pk)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                f"{cohort.name} is ready as a draft. Add people, then open enrolment.",
            )
            return redirect("programs:cohort_detail", pk=cohort.pk)
    return render(
        request, "programs/cohort_form.html", {"form": form, "program": program, "cohort": None}
    )


@login_required
def cohort_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_for(request, pk)
    form = CohortForm(
        request.POST or None, program=cohort.program, initial=CohortForm.initial_for(cohort)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.cohort_update(cohort=cohort, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "Cohort dates saved.")
            return redirect("programs:cohort_detail", pk=cohort.pk)
    return render(
        request,
        "programs/cohort_form.html",
        {"form": form, "program": cohort.program, "cohort": cohort},
    )


@dataclass(frozen=True)
class Step:
    status: str
    label: str
    state: str  # "done", "current" or "upcoming"


def _lifecycle(cohort: Cohort) -> list[Step]:
    statuses = list(Cohort.Status)
    current = statuses.index(Cohort.Status(cohort.status))
    return [
        Step(
            status=status.value,
            label=status.label,
            state="done" if i < current else "current" if i == current else "upcoming",
        )
        for i, status in enumerate(statuses)
    ]


def _count_rows(cohort: Cohort, dashboard: CohortDashboard) -> list[dict[str, object]]:
    """One row per role the program takes: its count in each status, and its total."""
    roles = services.program_roles(cohort.program)
    return [
        {
            "label": label,
            "counts": [
                dashboard.counts.get(role, {}).get(status, 0) for status in Enrolment.Status
            ],
            "total": dashboard.total(role),
        }
        for role, label in Enrolment.Role.choices
        if role in roles
    ]


def _missing_people(dashboard: CohortDashboard) -> list[dict[str, object]]:
    people = []
    for enrolment in dashboard.missing_profile:
        profile = getattr(enrolment.user, "profile", None)
        missing = list(profile.missing_fields) if profile is not None else ["profile"]
        if not getattr(enrolment, "has_competency", True):
            missing.append("competencies")
        people.append({"enrolment": enrolment, "missing": missing})
    return people


def _capacity_sentence(cohort: Cohort, dashboard: CohortDashboard) -> str:
    if cohort.program.kind == Program.Kind.PEER:
        return ""
    gap = dashboard.capacity_gap
    if gap > 0:
        mentees = "mentee" if gap == 1 else "mentees"
        return f"{gap} {mentees} without a place: approve more mentors or raise capacities."
    if gap < 0:
        places = "place" if gap == -1 else "places"
        return f"{-gap} spare mentor {places}."
    if dashboard.mentee_demand == 0:
        return "No approved mentees or mentor places yet."
    return "Every approved mentee has a place, with none to spare."


@login_required
def cohort_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The enrolment dashboard: where the cohort stands and what to do next."""
    cohort = _cohort_for(request, pk)
    dashboard = cohort_dashboard(cohort=cohort)
    capacity_percent = (
        min(100, round(100 * dashboard.mentee_demand / dashboard.mentor_capacity))
        if dashboard.mentor_capacity
        else (100 if dashboard.mentee_demand else 0)
    )
    return render(
        request,
        "programs/cohort_detail.html",
        {
            "cohort": cohort,
            "program": cohort.program,
            "dashboard": dashboard,
            "lifecycle": _lifecycle(cohort),
            "statuses": Enrolment.Status.choices,
            "count_rows": _count_rows(cohort, dashboard),
            "capacity_sentence": _capacity_sentence(cohort, dashboard),
            "capacity_percent": capacity_percent,
            "is_peer": cohort.program.kind == Program.Kind.PEER,
            "missing_people": _missing_people(dashboard),
            "anyone_in_play": any(
                by_status.get(status, 0)
                for by_status in dashboard.counts.values()
                for status in (Enrolment.Status.APPLIED, Enrolment.Status.APPROVED)
            ),
            "missing_more": max(0, dashboard.missing_profile_total - MISSING_PROFILE_SHOWN),
            "application_url": request.build_absolute_uri(
                reverse("programs:apply", args=[cohort.application_token])
            ),
        },
    )


@login_required
@require_POST
def cohort_transition(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_for(request, pk)
    form = CohortTransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the next steps shown on the dashboard.")
        return redirect("programs:cohort_detail", pk=cohort.pk)
    to_status = form.cleaned_data["to_status"]
    try:
        services.cohort_transition(
            cohort=cohort,
            to_status=to_status,
            confirm_early_start=form.cleaned_data["confirm_early_start"],
        )
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, TRANSITION_DONE[to_status])
    return redirect("programs:cohort_detail", pk=cohort.pk)


@login_required
def cohort_clone(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Start the next run of a closed cohort."""
    cohort = _cohort_for(request, pk)
    form = CohortCloneForm(
        request.POST or None,
        initial={"name": f"{cohort.name} (next)", "starts_on": cohort.ends_on + CLONE_GAP},
    )
    if request.method == "POST" and form.is_valid():
        try:
            clone = services.cohort_clone(
                cohort=cohort, created_by=request.user, **form.cleaned_data
            )
        except AlreadySubmittedError as first:
            messages.info(request, ALREADY_SAVED)
            return redirect("programs:cohort_detail", pk=first.created.pk)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            returning = clone.enrolments.count()
            people = "participant" if returning == 1 else "participants"
            messages.success(
                request,
                f"{clone.name} is ready as a draft. {returning} returning {people} invited back.",
            )
            return redirect("programs:cohort_detail", pk=clone.pk)
    return render(
        request,
        "programs/cohort_clone.html",
        {
            "form": form,
            "cohort": cohort,
            "program": cohort.program,
            "can_clone": cohort.status == Cohort.Status.CLOSED,
        },
    )


@login_required
def cohort_questions(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The cohort's own questions on its public application form."""
    cohort = _cohort_for(request, pk)
    initial = questions_initial(cohort.questions.all(), ("text", "answer_kind", "is_required"))
    formset = CohortQuestionFormSet(request.POST or None, initial=initial, prefix="questions")
    errors: list[str] = []
    if request.method == "POST" and formset.is_valid():
        try:
            saved = services.cohort_question_set(
                cohort=cohort, questions=questions_from_formset(formset)
            )
        except ValidationError as error:
            errors = error.messages
        else:
            count = len(saved)
            messages.success(
                request,
                f"{count} application question{'' if count == 1 else 's'} saved."
                if count
                else "The application form now asks only the standard questions.",
            )
            return redirect("programs:cohort_questions", pk=cohort.pk)
    return render(
        request,
        "programs/cohort_questions.html",
        {"formset": formset, "cohort": cohort, "program": cohort.program, "errors": errors},
    )


@login_required
@require_POST
def cohort_link_rotate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_for(request, pk)
    services.cohort_rotate_application_link(cohort=cohort)
    messages.success(request, "The application link was replaced: the old one no longer works.")
    return redirect("programs:cohort_detail", pk=cohort.pk)
