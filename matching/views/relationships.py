"""Relationships after matching: ending one early (its coordinators or one of its members), and
finding a mentee a new mentor (coordinators). The cohort's list of relationships, which shows
their health, lives with the relationship's life in goals (`goals:relationship_list`).

Relationships are reached through their cohort being visible (`cohort_list_visible_to`), or,
for ending early, through the user's own membership; anyone else gets a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from common.forms import form_add_service_error, service_error_text
from common.http import AuthenticatedHttpRequest
from matching import selectors, services
from matching.forms.coordination import RelationshipEndForm, ReplacementForm
from matching.models import RelationshipMember

# --- Ending early ---------------------------------------------------------------------------


@login_required
def relationship_end(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """End a relationship before the cohort does. Its coordinators may, and so may each of its
    members (for their own relationship)."""
    relationship = get_object_or_404(
        selectors.relationship_list_visible_to(user=request.user).prefetch_related(
            selectors.members_prefetch()
        ),
        pk=pk,
    )
    is_coordinator = selectors.relationship_is_coordinated_by(
        user=request.user, relationship=relationship
    )
    form = RelationshipEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.relationship_end_early(
                relationship=relationship,
                reason=form.cleaned_data["reason"],
                ended_by=request.user,
            )
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(request, "The relationship has ended. Everyone in it is told.")
            if is_coordinator:
                return redirect("goals:relationship_list", pk=relationship.cohort_id)
            return redirect("core:home")
    members = list(relationship.members.all())
    return render(
        request,
        "matching/relationship_end.html",
        {
            "relationship": relationship,
            "cohort": relationship.cohort,
            "program": relationship.cohort.program,
            "members": members,
            "partners": [m for m in members if m.enrolment.user_id != request.user.pk],
            "is_coordinator": is_coordinator,
            "form": form,
        },
    )


# --- Finding a replacement ------------------------------------------------------------------


@login_required
def relationship_replace(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Give the mentee of an ended pair a new mentor, chosen from the best with a place left."""
    relationship = get_object_or_404(
        selectors.relationship_list_coordinated_by(user=request.user)
        .select_related("cohort__program")
        .prefetch_related(selectors.members_prefetch()),
        pk=pk,
    )
    cohort = relationship.cohort
    mentee = selectors.member_enrolment(
        relationship=relationship, role=RelationshipMember.Role.MENTEE
    )
    previous = selectors.member_enrolment(
        relationship=relationship, role=RelationshipMember.Role.MENTOR
    )
    problem = selectors.replacement_problem(relationship=relationship, mentee=mentee)
    candidates = [] if problem else selectors.replacement_candidates(relationship=relationship)
    form = ReplacementForm(request.POST or None, candidates=[c.enrolment for c in candidates])
    if request.method == "POST" and mentee is not None and not problem:
        if not form.is_valid():
            messages.error(request, "Choose one of the mentors listed.")
        else:
            mentor = form.cleaned_data["mentor"]
            try:
                services.relationship_create(
                    cohort=cohort, mentor=mentor, mentee=mentee, replaces=relationship
                )
            except ValidationError as error:
                messages.error(request, service_error_text(error))
            else:
                messages.success(
                    request,
                    f"{mentor.user} now mentors {mentee.user}. Both are emailed.",
                )
                return redirect("goals:relationship_list", pk=cohort.pk)
    return render(
        request,
        "matching/relationship_replace.html",
        {
            "relationship": relationship,
            "cohort": cohort,
            "program": cohort.program,
            "mentee": mentee,
            "previous": previous,
            "problem": problem,
            "candidates": candidates,
        },
    )
