"""Reads of relationships: who may see one, a mentee's active one, and whether a cohort's
matches are published."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Prefetch, QuerySet

from accounts.models import User
from matching.models import Relationship, RelationshipMember
from programs.models import Cohort, Enrolment, Program
from programs.selectors import cohort_list_visible_to


def cohort_has_published_matches(*, cohort: Cohort) -> bool:
    """Whether the cohort's matches are published (its relationships exist): the guard the
    cohort lifecycle asks before a cohort becomes active."""
    return Relationship.objects.filter(cohort=cohort).exists()


def relationship_list_visible_to(*, user: User) -> QuerySet[Relationship]:
    """Members, and the coordinators of the relationship's program; nobody else."""
    if not user.is_authenticated:
        return Relationship.objects.none()
    # EXISTS rather than joins and DISTINCT: the page that reads one relationship this way
    # also reads its agreement's text, and DISTINCT over whole rows cost it 2.5 ms a request.
    is_member = RelationshipMember.objects.filter(relationship=OuterRef("pk"), enrolment__user=user)
    coordinates = Program.coordinators.through.objects.filter(
        program_id=OuterRef("cohort__program_id"), user=user
    )
    return Relationship.objects.filter(Exists(is_member) | Exists(coordinates)).select_related(
        "cohort__program"
    )


def active_relationship_of(*, enrolment: Enrolment) -> Relationship | None:
    return (
        Relationship.objects.filter(status=Relationship.Status.ACTIVE, members__enrolment=enrolment)
        .order_by("-started_at")
        .first()
    )


def relationship_list_coordinated_by(*, user: User) -> QuerySet[Relationship]:
    """Relationships of the cohorts whose program `user` coordinates; nobody else's."""
    return Relationship.objects.filter(cohort__in=cohort_list_visible_to(user=user))


def relationship_is_coordinated_by(*, user: User, relationship: Relationship) -> bool:
    return cohort_list_visible_to(user=user).filter(pk=relationship.cohort_id).exists()


def members_prefetch() -> Prefetch:
    """A relationship's members with their people, mentors (and peers) before mentees."""
    return Prefetch(
        "members",
        queryset=RelationshipMember.objects.select_related("enrolment__user").order_by(
            "-role", "pk"
        ),
    )


def member_enrolment(*, relationship: Relationship, role: str) -> Enrolment | None:
    """The first member in `role`, from the prefetched members."""
    return next((m.enrolment for m in relationship.members.all() if m.role == role), None)


# --- A cohort's relationships, for its coordinators -----------------------------------------


def relationship_list_for_cohort(*, cohort: Cohort, status: str = "") -> QuerySet[Relationship]:
    """The cohort's relationships, ended most recently first, then newest; only `status` when
    given; with their agreement's terms, which their health needs. Each one's `cohort` is
    `cohort` itself (the related manager sets it), so reading their program costs nothing;
    `relationship_rows` names their members."""
    relationships = (
        cohort.relationships.select_related("agreement")
        .defer("agreement__text")
        .order_by("-ended_at", "-started_at", "-pk")
    )
    return relationships.filter(status=status) if status else relationships


def relationship_counts_by_status(*, cohort: Cohort) -> dict[str, int]:
    return dict(cohort.relationships.values_list("status").annotate(n=Count("pk")).order_by())


@dataclass(frozen=True)
class MemberLine:
    """A member as a list of relationships names them."""

    name: str  # display name, else email
    role: str  # the role's label


@dataclass(frozen=True)
class RelationshipRow:
    relationship: Relationship
    members: list[MemberLine]  # mentors (and peers) before mentees
    can_replace: bool  # an ended pair whose mentee has no active relationship yet


def relationship_rows(
    *, cohort: Cohort, relationships: Iterable[Relationship]
) -> list[RelationshipRow]:
    """Each relationship with its members named and whether its mentee needs a new mentor, in
    two queries for the whole page. Members are read as names, not as members, enrolments and
    users: three objects a member were most of a 50-row page's time."""
    relationships = list(relationships)
    members: dict[int, list[MemberLine]] = defaultdict(list)
    mentees: dict[int, int] = {}  # relationship id -> its (first) mentee's enrolment id
    roles = dict(RelationshipMember.Role.choices)
    for relationship_id, enrolment_id, role, display_name, email in (
        RelationshipMember.objects.filter(relationship__in=[r.pk for r in relationships])
        .order_by("relationship_id", "-role", "pk")
        .values_list(
            "relationship_id",
            "enrolment_id",
            "role",
            "enrolment__user__display_name",
            "enrolment__user__email",
        )
    ):
        members[relationship_id].append(
            MemberLine(name=display_name or email, role=roles.get(role, role))
        )
        if role == RelationshipMember.Role.MENTEE:
            mentees.setdefault(relationship_id, enrolment_id)
    # Only the page's ended pairs can need a replacement: ask about their mentees alone, not
    # every active mentee of the cohort (a thousand rows on a large cohort, for every page).
    candidates = {
        mentee
        for relationship in relationships
        if relationship.status == Relationship.Status.ENDED
        and relationship.kind == Relationship.Kind.PAIR
        and (mentee := mentees.get(relationship.pk)) is not None
    }
    # Mentees who already have an active relationship need no replacement.
    matched = set(
        RelationshipMember.objects.filter(
            relationship__cohort=cohort,
            relationship__status=Relationship.Status.ACTIVE,
            role__in=[RelationshipMember.Role.MENTEE, RelationshipMember.Role.PEER],
            enrolment_id__in=candidates,
        ).values_list("enrolment_id", flat=True)
    )
    return [
        RelationshipRow(
            relationship=relationship,
            members=members[relationship.pk],
            can_replace=(mentee := mentees.get(relationship.pk)) is not None
            and mentee in candidates
            and mentee not in matched,
        )
        for relationship in relationships
    ]


# --- Finding a replacement ------------------------------------------------------------------

REPLACE_ONLY_PAIRS = "Only a pair of a mentor and a mentee can be given a new mentor here."
REPLACE_STILL_ACTIVE = "This relationship is still active: end it first, then find a replacement."
REPLACE_MENTEE_MATCHED = "The mentee already has an active relationship."


def replacement_problem(*, relationship: Relationship, mentee: Enrolment | None) -> str:
    """Why the mentee of `relationship` cannot be given a new mentor now ("" when they can)."""
    if relationship.kind != Relationship.Kind.PAIR or mentee is None:
        return REPLACE_ONLY_PAIRS
    if relationship.status == Relationship.Status.ACTIVE:
        return REPLACE_STILL_ACTIVE
    if active_relationship_of(enrolment=mentee):
        return REPLACE_MENTEE_MATCHED
    return ""
