"""Feedback and reflection, for the members of a relationship: the one-tap pulse after a
check-in, the midpoint and final surveys, and the reflection journal.

Every page is reached through `relationship_list_visible_to` and then needs the viewer's own
membership: a coordinator, like an outsider, gets a 404 here. Reflections are read as the
viewer's own plus others' shared ones; another person's private reflection is never loaded."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.services import ALREADY_SAVED, AlreadySubmittedError
from common.forms import SUBMISSION_TOKEN, form_add_service_error, service_error_text
from common.http import AuthenticatedHttpRequest
from goals import selectors, services
from goals.forms.feedback import PulseForm, ReflectionForm, SurveyForm
from goals.models import CheckIn, Reflection, SurveyResponse
from matching.models import Relationship, RelationshipMember
from matching.selectors import relationship_list_visible_to


def _membership(
    request: AuthenticatedHttpRequest, pk: int
) -> tuple[Relationship, RelationshipMember]:
    """The relationship and the viewer's place in it; 404 for anyone who is not a member."""
    relationship = get_object_or_404(relationship_list_visible_to(user=request.user), pk=pk)
    member = selectors.membership_of(user=request.user, relationship=relationship)
    if member is None:
        raise Http404("Only the members of a relationship can do this.")
    return relationship, member


@login_required
@require_POST
def pulse_give(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    check_in = get_object_or_404(
        CheckIn.objects.filter(relationship__in=relationship_list_visible_to(user=request.user)),
        pk=pk,
    )
    relationship, member = _membership(request, check_in.relationship_id)
    form = PulseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how useful the meeting was, from 1 to 5.")
    else:
        try:
            services.pulse_give(
                check_in=check_in,
                member=member,
                usefulness=form.cleaned_data["usefulness"],
                line=form.cleaned_data["line"],
                submission_token=form.cleaned_data[SUBMISSION_TOKEN],
            )
        except AlreadySubmittedError:
            messages.info(request, ALREADY_SAVED)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            messages.success(request, "Thank you: your feedback is saved.")
    return redirect("goals:relationship_home", pk=relationship.pk)


@login_required
def survey(request: AuthenticatedHttpRequest, pk: int, stage: str) -> HttpResponse:
    if stage not in SurveyResponse.Stage.values:
        raise Http404("There is a midpoint and a final survey, nothing else.")
    relationship, member = _membership(request, pk)
    context = {
        "relationship": relationship,
        "program": relationship.cohort.program,
        "stage": stage,
        "stage_label": SurveyResponse.Stage(stage).label,
    }
    if SurveyResponse.objects.filter(
        relationship=relationship, author=member, stage=stage
    ).exists():
        if request.method == "POST":  # the answers sent again: they are saved, once
            messages.info(request, ALREADY_SAVED)
            return redirect("goals:survey", pk=relationship.pk, stage=stage)
        return render(request, "goals/survey_done.html", context)
    if not services.survey_stage_open(relationship=relationship, stage=stage):
        return render(request, "goals/survey_closed.html", context)
    form = SurveyForm(
        request.POST if request.method == "POST" else None,
        questions=services.survey_questions_for(member=member),
        readiness_mentees=services.survey_readiness_mentees(member=member, stage=stage),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.survey_submit(
                relationship=relationship,
                member=member,
                stage=stage,
                answers=form.answers(),
                readiness=form.readiness(),
                submission_token=form.cleaned_data[SUBMISSION_TOKEN],
            )
        except AlreadySubmittedError:
            messages.info(request, ALREADY_SAVED)
            return redirect("goals:survey", pk=relationship.pk, stage=stage)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "Thank you: your answers are saved.")
            return redirect("goals:survey", pk=relationship.pk, stage=stage)
    return render(request, "goals/survey_form.html", {**context, "form": form})


@login_required
def reflections(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    relationship, member = _membership(request, pk)
    stage = selectors.reflection_stage_for(relationship)
    form = ReflectionForm(
        request.POST if request.method == "POST" else None,
        prompts=selectors.reflection_prompts_for(role=member.role, stage=stage),
    )
    if request.method == "POST" and form.is_valid():
        try:
            reflection = services.reflection_write(
                author=request.user,
                relationship=relationship,
                stage=stage,
                prompt=form.chosen_prompt(),
                text=form.cleaned_data["text"],
                shared=form.cleaned_data["shared"],
                submission_token=form.cleaned_data[SUBMISSION_TOKEN],
            )
        except AlreadySubmittedError:
            messages.info(request, ALREADY_SAVED)
            return redirect("goals:reflections", pk=relationship.pk)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                "Saved and shared with the others in this relationship."
                if reflection.shared
                else "Saved. Only you can read it.",
            )
            return redirect("goals:reflections", pk=relationship.pk)
    visible = selectors.reflection_list_visible_to(
        user=request.user, relationship=relationship, is_member=True
    )
    return render(
        request,
        "goals/reflection_list.html",
        {
            "relationship": relationship,
            "program": relationship.cohort.program,
            "member": member,
            "stage": stage,
            "stage_label": Reflection.Stage(stage).label,
            "form": form,
            "reflections": visible,
        },
    )


@login_required
@require_POST
def reflection_share(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    # Only the author: for anyone else the reflection does not exist.
    reflection = get_object_or_404(Reflection.objects.filter(author=request.user), pk=pk)
    shared = request.POST.get("shared") == "1"
    services.reflection_share(reflection=reflection, shared=shared)
    messages.success(
        request,
        "Shared with the others in this relationship."
        if shared
        else "Made private: only you can read it now.",
    )
    return redirect("goals:reflections", pk=reflection.relationship_id)
