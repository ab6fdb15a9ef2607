"""Coordinator pages that shape matching before it runs: a program's weights and rules, and a
cohort's pairs never to propose. Programs come through `program_list_visible_to`, cohorts and
their exclusions through `cohort_list_visible_to`, so anyone else gets a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from common.forms import form_add_service_error
from common.http import AuthenticatedHttpRequest
from matching import selectors, services
from matching.forms.coordination import (
    WEIGHT_FIELDS,
    ExclusionForm,
    MatchingConfigForm,
    score_composition,
)
from matching.models import MatchExclusion
from programs.models import Cohort, Enrolment
from programs.selectors import cohort_list_visible_to, program_list_visible_to

PAGE_SIZE = 50


@login_required
def config_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The program's matching weights and rules; every later run of its cohorts uses them."""
    program = get_object_or_404(program_list_visible_to(user=request.user), pk=pk)
    config = selectors.matching_config_for(program=program)
    initial = {name: getattr(config, name) for name in services.MATCHING_CONFIG_FIELDS}
    form = MatchingConfigForm(request.POST or None, initial=initial, program=program)
    if request.method == "POST" and form.is_valid():
        try:
            services.matching_config_update(program=program, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "Matching settings saved. The next run uses them.")
            return redirect("matching:config_edit", pk=program.pk)
    return render(
        request,
        "matching/config_edit.html",
        {
            "form": form,
            "program": program,
            "composition": score_composition(
                {name.removeprefix("weight_"): initial[name] for name in WEIGHT_FIELDS}
            ),
            "cohorts": program.cohorts.filter(status=Cohort.Status.MATCHING).order_by("name"),
        },
    )


def _cohort_for(request: AuthenticatedHttpRequest, pk: int) -> Cohort:
    return get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)


@login_required
def exclusion_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Pairs the cohort's runs never propose, and the form to add one."""
    cohort = _cohort_for(request, pk)
    people = (
        cohort.enrolments.filter(status=Enrolment.Status.APPROVED)
        .select_related("user")
        .order_by("user__display_name", "pk")
    )
    form = ExclusionForm(request.POST or None, people=people)
    if request.method == "POST" and form.is_valid():
        first, second = form.cleaned_data["first"], form.cleaned_data["second"]
        try:
            services.match_exclusion_add(
                cohort=cohort,
                first=first,
                second=second,
                reason=form.cleaned_data["reason"],
                created_by=request.user,
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                f"{first.user} and {second.user} will never be proposed as a pair.",
            )
            return redirect("matching:exclusion_list", pk=cohort.pk)
    exclusions = cohort.match_exclusions.select_related(
        "first__user", "second__user", "created_by"
    ).order_by("-created_at", "-pk")
    return render(
        request,
        "matching/exclusion_list.html",
        {
            "cohort": cohort,
            "program": cohort.program,
            "form": form,
            "page": Paginator(exclusions, PAGE_SIZE).get_page(request.GET.get("page")),
        },
    )


@login_required
@require_POST
def exclusion_delete(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    exclusion = get_object_or_404(
        MatchExclusion.objects.filter(
            cohort__in=cohort_list_visible_to(user=request.user)
        ).select_related("first__user", "second__user"),
        pk=pk,
    )
    cohort_id = exclusion.cohort_id
    services.match_exclusion_remove(exclusion=exclusion)
    messages.success(
        request,
        f"{exclusion.first.user} and {exclusion.second.user} may be proposed as a pair again.",
    )
    return redirect("matching:exclusion_list", pk=cohort_id)
