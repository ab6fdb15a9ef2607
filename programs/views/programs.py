"""Coordinator pages for programs: the list, creating and editing one, its detail page and who
coordinates it. Every program is fetched through a selector scoped to the signed-in person, so
anyone else gets a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.services import ALREADY_SAVED, AlreadySubmittedError
from common.forms import form_add_service_error, service_error_text
from common.http import AuthenticatedHttpRequest
from programs import services
from programs.forms.coordination import (
    KIND_EXPLANATIONS,
    CoordinatorAddForm,
    CoordinatorRemoveForm,
    FeedbackQuestionFormSet,
    ProgramCreateForm,
    ProgramForm,
    questions_from_formset,
    questions_initial,
)
from programs.models import Program
from programs.selectors import (
    organisation_overview,
    program_coordinator_get,
    program_kind_is_fixed,
    program_list_coordinated_by,
    program_list_visible_to,
)

PER_PAGE = 50


@login_required
def program_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The programs the signed-in person coordinates, each with its cohorts. An administrator
    who coordinates none sees the organisation's programs instead, with the way into each."""
    page = Paginator(program_list_coordinated_by(user=request.user), PER_PAGE).get_page(
        request.GET.get("page")
    )
    organisation = (
        organisation_overview() if request.user.is_staff and not page.object_list else None
    )
    return render(
        request,
        "programs/program_list.html",
        {
            "page": page,
            "can_create": request.user.has_perm("programs.add_program"),
            "organisation": organisation,
        },
    )


@login_required
def program_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not request.user.has_perm("programs.add_program"):
        raise PermissionDenied
    form = ProgramCreateForm(request.POST or None, initial=ProgramForm.initial_for())
    if request.method == "POST" and form.is_valid():
        try:
            program = services.program_create(created_by=request.user, **form.cleaned_data)
        except AlreadySubmittedError as first:
            messages.info(request, ALREADY_SAVED)
            return redirect("programs:program_detail", pk=first.created.pk)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, f"{program.name} is ready. Add its first cohort next.")
            return redirect("programs:program_detail", pk=program.pk)
    return render(request, "programs/program_form.html", {"form": form, "program": None})


@login_required
def program_edit(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_object_or_404(program_list_visible_to(user=request.user), pk=pk)
    kind_locked = program_kind_is_fixed(program=program)
    form = ProgramForm(
        request.POST or None, initial=ProgramForm.initial_for(program), kind_locked=kind_locked
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.program_update(program=program, **form.cleaned_data)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "Program settings saved.")
            return redirect("programs:program_detail", pk=program.pk)
    return render(request, "programs/program_form.html", {"form": form, "program": program})


@login_required
def program_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_object_or_404(program_list_coordinated_by(user=request.user), pk=pk)
    return render(
        request,
        "programs/program_detail.html",
        {
            "program": program,
            "cohorts": program.cohorts.all(),
            "coordinators": program.coordinators.all(),
            "questions": program.questions.all(),
            "kind_explanation": KIND_EXPLANATIONS.get(program.kind, ""),
            "add_form": CoordinatorAddForm(),
            "is_circle": program.kind == Program.Kind.CIRCLE,
        },
    )


@login_required
@require_POST
def program_coordinators(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Add a coordinator by email (`action=add`) or remove one (`action=remove`, `user_id`)."""
    program = get_object_or_404(program_list_visible_to(user=request.user), pk=pk)
    back = redirect("programs:program_detail", pk=program.pk)
    if request.POST.get("action") == "remove":
        remove_form = CoordinatorRemoveForm(request.POST)
        coordinator = (
            program_coordinator_get(program=program, user_id=remove_form.cleaned_data["user_id"])
            if remove_form.is_valid()
            else None
        )
        if coordinator is None:
            messages.error(request, "That person does not coordinate this program.")
            return back
        try:
            services.program_remove_coordinator(program=program, user=coordinator)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
            return back
        if coordinator.pk == request.user.pk:
            messages.success(request, f"You no longer coordinate {program.name}.")
            return redirect("programs:program_list")
        messages.success(request, f"{coordinator} no longer coordinates this program.")
        return back

    add_form = CoordinatorAddForm(request.POST)
    if not add_form.is_valid():
        messages.error(request, " ".join(str(message) for message in add_form.errors["email"]))
        return back
    try:
        added = services.program_add_coordinator(
            program=program, email=add_form.cleaned_data["email"]
        )
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        messages.success(request, f"{added} now coordinates this program.")
    return back


@login_required
def program_questions(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The program's midpoint and final survey questions, asked in every cohort."""
    program = get_object_or_404(program_list_visible_to(user=request.user), pk=pk)
    initial = questions_initial(
        program.questions.all(), ("text", "answer_kind", "asked_of", "visible_to")
    )
    formset = FeedbackQuestionFormSet(request.POST or None, initial=initial, prefix="questions")
    errors: list[str] = []
    if request.method == "POST" and formset.is_valid():
        try:
            saved = services.program_feedback_questions_set(
                program=program, questions=questions_from_formset(formset)
            )
        except ValidationError as error:
            errors = error.messages
        else:
            count = len(saved)
            messages.success(
                request, f"{count} feedback question{'' if count == 1 else 's'} saved."
            )
            return redirect("programs:program_detail", pk=program.pk)
    return render(
        request,
        "programs/program_questions.html",
        {"formset": formset, "program": program, "errors": errors},
    )
