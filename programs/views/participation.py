"""Participants: applying through a cohort's public link, their own enrolment and their profile.

Everything a participant opens by id comes from `enrolment_list_visible_to_participant`, so
somebody else's enrolment is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts.selectors import submission_created
from accounts.services import ALREADY_SAVED, AlreadySubmittedError
from common.forms import SUBMISSION_TOKEN, form_add_service_error, submission_token_of
from common.http import AuthenticatedHttpRequest
from programs import services
from programs.forms.participation import (
    ApplyForm,
    EnrolmentDetailsForm,
    ProfileForm,
    WithdrawForm,
)
from programs.models import Cohort, Enrolment, EnrolmentCompetency
from programs.selectors import (
    competency_names_by_kind,
    enrolment_application_answers,
    enrolment_get_for_participant,
    enrolment_list_visible_to_participant,
    enrolment_participant_actions,
)

APPLIED_MESSAGE = (
    "Your application is in. The coordinator will review it; you'll see its status here."
)
CANNOT_CHANGE = "This enrolment can no longer be changed."


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, token: str) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.select_related("program"), application_token=token)
    context: dict[str, object] = {"cohort": cohort, "program": cohort.program}
    if not cohort.enrolment_window_is_open:
        context["closed_message"] = services.APPLICATIONS_CLOSED
        return render(request, "programs/apply_closed.html", context)
    if not request.user.is_authenticated:
        return render(request, "programs/apply_welcome.html", context)

    if request.method == "POST":
        first = submission_created(
            user=request.user, token=submission_token_of(request.POST), model=Enrolment
        )
        if first is not None:  # this very application, sent again
            messages.info(request, ALREADY_SAVED)
            return redirect("programs:my_enrolment", pk=first.pk)
    previous = enrolment_get_for_participant(user=request.user, cohort=cohort)
    if previous and previous.status != Enrolment.Status.WITHDRAWN:
        context.update(enrolment=previous, already_message=services.ENROLMENT_ALREADY_EXISTS)
        return render(request, "programs/apply_already.html", context)

    initial = ApplyForm.profile_initial(getattr(request.user, "profile", None))
    if previous:  # withdrew earlier: start from what they told us then
        initial.update(EnrolmentDetailsForm.details_initial(previous), role=previous.role)
    form = ApplyForm(request.POST or None, cohort=cohort, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = services.enrolment_apply(
                cohort=cohort,
                user=request.user,
                role=form.cleaned_data["role"],
                details=form.details(),
                profile_fields=form.profile_fields(),
                submission_token=form.cleaned_data[SUBMISSION_TOKEN],
            )
        except AlreadySubmittedError as first:
            messages.info(request, ALREADY_SAVED)
            return redirect("programs:my_enrolment", pk=first.created.pk)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, APPLIED_MESSAGE)
            return redirect("programs:my_enrolment", pk=enrolment.pk)
    context.update(form=form, previous=previous)
    return render(request, "programs/apply_form.html", context)


def my_enrolment_context(
    request: AuthenticatedHttpRequest, enrolment: Enrolment
) -> dict[str, object]:
    """What the participant's own enrolment page shows from this app. The page's view is
    `matching.views.enrolment.my_enrolment`, which adds the participant's partners: matching
    builds on programs, so this app offers its part and does not import that one."""
    names = competency_names_by_kind(enrolment=enrolment)
    return {
        "enrolment": enrolment,
        "cohort": enrolment.cohort,
        "program": enrolment.cohort.program,
        "competencies": [
            (label, names.get(kind, [])) for kind, label in EnrolmentCompetency.Kind.choices
        ],
        "has_competencies": any(names.values()),
        "profile": getattr(request.user, "profile", None),
        "questions": enrolment_application_answers(enrolment=enrolment),
        **enrolment_participant_actions(enrolment=enrolment),
    }


@login_required
@require_http_methods(["GET", "POST"])
def my_enrolment_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    enrolment = get_object_or_404(enrolment_list_visible_to_participant(user=request.user), pk=pk)
    if not enrolment_participant_actions(enrolment=enrolment)["can_edit"]:
        messages.info(request, CANNOT_CHANGE)
        return redirect("programs:my_enrolment", pk=enrolment.pk)
    form = EnrolmentDetailsForm(
        request.POST or None,
        cohort=enrolment.cohort,
        role=enrolment.role,
        initial=EnrolmentDetailsForm.details_initial(enrolment),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_update_details(enrolment=enrolment, details=form.details())
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "Your details are saved.")
            return redirect("programs:my_enrolment", pk=enrolment.pk)
    return render(
        request,
        "programs/my_enrolment_edit.html",
        {"enrolment": enrolment, "cohort": enrolment.cohort, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def my_enrolment_withdraw(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    enrolment = get_object_or_404(enrolment_list_visible_to_participant(user=request.user), pk=pk)
    if not enrolment_participant_actions(enrolment=enrolment)["can_withdraw"]:
        messages.info(request, CANNOT_CHANGE)
        return redirect("programs:my_enrolment", pk=enrolment.pk)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.enrolment_withdraw(enrolment=enrolment, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                f"You have withdrawn from {enrolment.cohort.program.name} "
                f"({enrolment.cohort.name}). The coordinator can see your reason, if you gave one.",
            )
            return redirect("programs:my_enrolment", pk=enrolment.pk)
    return render(
        request,
        "programs/my_enrolment_withdraw.html",
        {"enrolment": enrolment, "cohort": enrolment.cohort, "form": form},
    )


@login_required
@require_http_methods(["GET", "POST"])
def profile_edit(request: AuthenticatedHttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    form = ProfileForm(
        request.POST or None,
        initial=ProfileForm.profile_initial(getattr(request.user, "profile", None)),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(user=request.user, **form.profile_fields())
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect(next_url or "programs:profile_edit")
    return render(request, "programs/profile_edit.html", {"form": form, "next_url": next_url})
