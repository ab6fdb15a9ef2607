"""Relationships after matching: the cohort's list for its coordinators, ending one early (its
coordinators or one of its members), and finding a mentee a new mentor (coordinators).

Relationships are reached through their cohort being visible (`cohort_list_visible_to`), or,
for ending early, through the user's own membership; anyone else gets a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from accounts.models import User
from matching import selectors, services
from matching.forms.coordination import RelationshipEndForm, ReplacementForm
from matching.models import Relationship, RelationshipMember
from programs.forms.coordination import form_add_service_error
from programs.models import Enrolment
from programs.selectors import cohort_list_visible_to

PAGE_SIZE = 50
REPLACEMENT_CANDIDATES = 10


def _members_prefetch() -> Prefetch:
    return Prefetch(
        "members",
        queryset=RelationshipMember.objects.select_related("enrolment__user").order_by(
            "-role", "pk"
        ),  # mentors (and peers) before mentees
    )


def _coordinated_relationships(user: User) -> QuerySet[Relationship]:
    return Relationship.objects.filter(cohort__in=cohort_list_visible_to(user=user))


def _member(relationship: Relationship, role: str) -> Enrolment | None:
    return next((m.enrolment for m in relationship.members.all() if m.role == role), None)


# --- The cohort's relationships -------------------------------------------------------------


@login_required
@require_GET
def relationship_list(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)
    status = request.GET.get("status", "")
    if status not in Relationship.Status.values:
        status = ""
    relationships = (
        cohort.relationships.select_related("cohort__program")
        .prefetch_related(_members_prefetch())
        .order_by("-ended_at", "-started_at", "-pk")
    )
    if status:
        relationships = relationships.filter(status=status)
    counts = dict(cohort.relationships.values_list("status").annotate(n=Count("pk")).order_by())
    page = Paginator(relationships, PAGE_SIZE).get_page(request.GET.get("page"))
    # Mentees who already have an active relationship need no replacement.
    matched = set(
        RelationshipMember.objects.filter(
            relationship__cohort=cohort,
            relationship__status=Relationship.Status.ACTIVE,
            role__in=[RelationshipMember.Role.MENTEE, RelationshipMember.Role.PEER],
        ).values_list("enrolment_id", flat=True)
    )
    # Health lives with the relationship's life (goals); read once for the whole page.
    from goals.selectors import health_for

    active = [r for r in page if r.status == Relationship.Status.ACTIVE]
    health = health_for(relationships=active)
    rows = []
    for relationship in page:
        mentee = _member(relationship, RelationshipMember.Role.MENTEE)
        rows.append(
            {
                "relationship": relationship,
                "health": health.get(relationship.pk),
                "members": list(relationship.members.all()),
                "can_replace": relationship.status == Relationship.Status.ENDED
                and relationship.kind == Relationship.Kind.PAIR
                and mentee is not None
                and mentee.pk not in matched,
            }
        )
    return render(
        request,
        "matching/relationship_list.html",
        {
            "cohort": cohort,
            "program": cohort.program,
            "page": page,
            "rows": rows,
            "status": status,
            "filters": [
                ("", "All", sum(counts.values())),
                *(
                    (value, label, counts.get(value, 0))
                    for value, label in Relationship.Status.choices
                ),
            ],
            "filter_query": f"status={status}" if status else "",
        },
    )


# --- Ending early ---------------------------------------------------------------------------


@login_required
def relationship_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a relationship before the cohort does. Its coordinators may, and so may each of its
    members (for their own relationship)."""
    relationship = get_object_or_404(
        selectors.relationship_list_visible_to(user=request.user).prefetch_related(
            _members_prefetch()
        ),
        pk=pk,
    )
    is_coordinator = (
        cohort_list_visible_to(user=request.user).filter(pk=relationship.cohort_id).exists()
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
                return redirect("matching:relationship_list", pk=relationship.cohort_id)
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


def _replacement_problem(relationship: Relationship, mentee: Enrolment | None) -> str:
    if relationship.kind != Relationship.Kind.PAIR or mentee is None:
        return "Only a pair of a mentor and a mentee can be given a new mentor here."
    if relationship.status == Relationship.Status.ACTIVE:
        return "This relationship is still active: end it first, then find a replacement."
    if selectors.active_relationship_of(enrolment=mentee):
        return "The mentee already has an active relationship."
    return ""


@login_required
def relationship_replace(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the mentee of an ended pair a new mentor, chosen from the best with a place left."""
    relationship = get_object_or_404(
        _coordinated_relationships(request.user)
        .select_related("cohort__program")
        .prefetch_related(_members_prefetch()),
        pk=pk,
    )
    cohort = relationship.cohort
    mentee = _member(relationship, RelationshipMember.Role.MENTEE)
    previous = _member(relationship, RelationshipMember.Role.MENTOR)
    problem = _replacement_problem(relationship, mentee)
    candidates = [] if problem else selectors.replacement_candidates(relationship=relationship)
    form = ReplacementForm(request.POST or None, candidates=[c.enrolment for c in candidates])
    if request.method == "POST" and not problem:
        if not form.is_valid():
            messages.error(request, "Choose one of the mentors listed.")
        else:
            mentor = form.cleaned_data["mentor"]
            try:
                services.relationship_create(
                    cohort=cohort, mentor=mentor, mentee=mentee, replaces=relationship
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    f"{mentor.user} now mentors {mentee.user}. Both are emailed.",
                )
                return redirect("matching:relationship_list", pk=cohort.pk)
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
