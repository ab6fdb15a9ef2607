"""Invitations: coordinators invite people by email; whoever holds a link accepts it (signing in,
or setting a name and password on the spot), or asks for a new one when it is dead."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_http_methods, require_POST

from common.forms import form_add_service_error, service_error_text
from common.http import AuthenticatedHttpRequest
from programs import services
from programs.forms.participation import InvitationAccountForm, InvitationForm
from programs.models import BulkJob, Invitation
from programs.selectors import (
    InvitationState,
    bulk_job_list_active_for_cohort,
    cohort_list_visible_to,
    invitation_list_for_cohort,
    invitation_list_for_link_holders,
    invitation_state_for,
)

PAGE_SIZE = 50
RENEWAL_REQUESTED = "We've asked the coordinator to send you a new invitation."
NOT_A_VALID_ADDRESS = "not a valid address"


def _sending_count(count: int) -> str:
    return f"Sending {count} invitation{'' if count == 1 else 's'}."


@login_required
@require_http_methods(["GET", "POST"])
def invitation_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)
    program = cohort.program
    form = InvitationForm(request.POST or None, program=program)
    if request.method == "POST" and form.is_valid():
        job = None
        if form.valid_emails:
            try:
                # A worker sends them; the same list pressed twice lands on the same job.
                job = services.invitations_send(
                    cohort=cohort,
                    emails=form.valid_emails,
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                    is_external=form.cleaned_data.get("is_external", False),
                )
            except ValidationError as error:
                form_add_service_error(form, error)
        if job is not None and not form.invalid_emails:
            return redirect("programs:job_detail", pk=job.pk)
        if job is not None:
            messages.success(
                request,
                format_html(
                    '{} <a href="{}">Follow them</a>.',
                    _sending_count(job.total),
                    reverse("programs:job_detail", args=[job.pk]),
                ),
            )
        if form.invalid_emails:
            # Keep only the addresses that were not sent, so fixing them and sending again is
            # easy.
            form = InvitationForm(
                {**request.POST.dict(), "emails": "\n".join(form.invalid_emails)}, program=program
            )
            form.is_valid()
            form.add_error(
                "emails",
                "Not sent: "
                + "; ".join(
                    f"{address} ({NOT_A_VALID_ADDRESS})" for address in form.invalid_emails
                ),
            )
    page = Paginator(invitation_list_for_cohort(cohort=cohort), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "programs/invitation_list.html",
        {
            "cohort": cohort,
            "program": program,
            "form": form,
            "page": page,
            "sending": bulk_job_list_active_for_cohort(cohort=cohort, kind=BulkJob.Kind.INVITE),
        },
    )


def _invitation_by_token(token: str) -> Invitation:
    return get_object_or_404(invitation_list_for_link_holders(), token=token)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation_by_token(token)
    context: dict[str, object] = {
        "invitation": invitation,
        "cohort": invitation.cohort,
        "program": invitation.cohort.program,
    }
    user = request.user if request.user.is_authenticated else None
    state = invitation_state_for(invitation=invitation, user=user)
    step = InvitationState.Step
    if state.step == step.PROBLEM:
        if state.own_enrolment is not None:
            context["own_enrolment"] = state.own_enrolment
        context["problem"] = state.problem
        return render(request, "programs/invitation_problem.html", context)
    if state.step == step.SOMEONE_ELSE:
        context["someone_else"] = state.problem
        return render(request, "programs/invitation_accept.html", context)
    if state.step == step.SIGN_IN:
        context["sign_in"] = True
        return render(request, "programs/invitation_accept.html", context)
    if state.step == step.ACCEPT and user is not None:
        if request.method == "POST":
            try:
                _, enrolment = services.invitation_accept(invitation=invitation, user=user)
            except ValidationError as error:
                context["error"] = service_error_text(error)
            else:
                messages.success(
                    request, f"You're in: welcome to {invitation.cohort.program.name}."
                )
                return redirect("programs:my_enrolment", pk=enrolment.pk)
        return render(request, "programs/invitation_accept.html", context)

    # NEW_ACCOUNT: nobody can sign in as the invited person yet; they set a password here.
    form = InvitationAccountForm(request.POST or None, initial={"display_name": state.display_name})
    if request.method == "POST" and form.is_valid():
        try:
            user, enrolment = services.invitation_accept(
                invitation=invitation,
                user=None,
                display_name=form.cleaned_data["display_name"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome, {user.get_short_name()}! Your account is ready and you're in "
                f"{invitation.cohort.program.name}.",
            )
            return redirect("programs:my_enrolment", pk=enrolment.pk)
    context["form"] = form
    return render(request, "programs/invitation_accept.html", context)


@require_POST
def invitation_renew(request: HttpRequest, token: str) -> HttpResponse:
    invitation = _invitation_by_token(token)
    # A live link needs no renewal: the page shows it as it is.
    if services.invitation_problem(invitation=invitation):
        services.invitation_request_renewal(invitation=invitation)
        messages.success(request, RENEWAL_REQUESTED)
    return redirect("programs:invitation_accept", token=invitation.token)
