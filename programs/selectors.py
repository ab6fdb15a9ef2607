"""Reads for programs, cohorts and enrolments. Every read a coordinator or participant makes goes
through a `*_visible_to(user=...)` here, so a view that fetches by id can only 404 for outsiders."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Lower

from accounts.models import User

from .models import (
    Cohort,
    Competency,
    CompetencySynonym,
    Enrolment,
    EnrolmentCompetency,
    Invitation,
    ParticipantImport,
    Program,
)

ACTIVE_ENROLMENT_STATUSES = (
    Enrolment.Status.INVITED,
    Enrolment.Status.APPLIED,
    Enrolment.Status.APPROVED,
    Enrolment.Status.WAITLISTED,
)


# --- Home -----------------------------------------------------------------------------------


@dataclass
class HomeSummary:
    """What the home page offers a signed-in person, in a fixed number of queries."""

    coordinated_programs: list[Program] = field(default_factory=list)
    enrolments: list[Enrolment] = field(default_factory=list)
    is_admin: bool = False
    can_create_programs: bool = False

    @property
    def is_new(self) -> bool:
        return not (
            self.coordinated_programs
            or self.enrolments
            or self.is_admin
            or self.can_create_programs
        )


def program_list_coordinated_by(*, user: User) -> QuerySet[Program]:
    """The programs `user` may open, each with its cohorts and their participant counts."""
    cohorts = Cohort.objects.annotate(
        participant_count=Count(
            "enrolments", filter=~Q(enrolments__status=Enrolment.Status.WITHDRAWN)
        )
    ).order_by("-starts_on")
    return (
        program_list_visible_to(user=user)
        .prefetch_related(Prefetch("cohorts", queryset=cohorts))
        .order_by("name")
    )


# Relationships belong to the matching app, which builds on this one: counted through the
# reverse relation's name so this module need not import it.
_ACTIVE_RELATIONSHIPS = Count(
    "relationship_memberships",
    filter=Q(relationship_memberships__relationship__status="active"),
)


def enrolment_list_for(*, user: User) -> QuerySet[Enrolment]:
    return (
        Enrolment.objects.filter(user=user)
        .select_related("cohort__program")
        .annotate(active_relationship_count=_ACTIVE_RELATIONSHIPS)
        .order_by("-cohort__starts_on")
    )


def home_summary_for(*, user: User) -> HomeSummary:
    return HomeSummary(
        coordinated_programs=list(program_list_coordinated_by(user=user)),
        enrolments=list(enrolment_list_for(user=user)),
        is_admin=user.is_staff,
        can_create_programs=user.has_perm("programs.add_program"),
    )


# --- Permission-scoped lookups --------------------------------------------------------------


def program_list_visible_to(*, user: User) -> QuerySet[Program]:
    """Programs whose pages `user` may open: the ones they coordinate."""
    if not user.is_authenticated:
        return Program.objects.none()
    return Program.objects.filter(coordinators=user)


def cohort_list_visible_to(*, user: User) -> QuerySet[Cohort]:
    if not user.is_authenticated:
        return Cohort.objects.none()
    return Cohort.objects.filter(program__coordinators=user).select_related("program")


def enrolment_list_visible_to_participant(*, user: User) -> QuerySet[Enrolment]:
    """A participant's own enrolments, and nobody else's."""
    if not user.is_authenticated:
        return Enrolment.objects.none()
    return (
        Enrolment.objects.filter(user=user)
        .select_related("cohort__program")
        .annotate(active_relationship_count=_ACTIVE_RELATIONSHIPS)
    )


def participant_import_list_visible_to(*, user: User) -> QuerySet[ParticipantImport]:
    if not user.is_authenticated:
        return ParticipantImport.objects.none()
    return ParticipantImport.objects.filter(cohort__program__coordinators=user).select_related(
        "cohort__program"
    )


def participant_import_list_for_cohort(
    *, cohort: Cohort, limit: int = 5
) -> list[ParticipantImport]:
    """The cohort's latest imports for listing: without their stored tables, which can be
    megabytes each."""
    return list(
        cohort.imports.defer("headers", "rows", "mapping")
        .select_related("uploaded_by")
        .order_by("-created_at")[:limit]
    )


def can_manage_vocabulary(*, user: User) -> bool:
    return user.is_authenticated and user.has_perm("programs.change_competency")


# --- Cohort dashboard -----------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    to_status: str
    label: str
    explanation: str
    problem: str | None


@dataclass
class CohortDashboard:
    counts: dict[str, dict[str, int]]  # role → status → count
    mentor_capacity: int  # approved mentors' places
    mentee_demand: int  # approved mentees
    missing_profile: list[Enrolment]  # approved or applied people matching knows too little about
    missing_profile_total: int
    next_steps: list[NextStep]
    pending_invitations: int

    @property
    def capacity_gap(self) -> int:
        """Positive: mentees without a place; negative: spare mentor places."""
        return self.mentee_demand - self.mentor_capacity

    def total(self, role: str) -> int:
        return sum(self.counts.get(role, {}).values())


STEP_LABELS = {
    Cohort.Status.DRAFT: ("Back to draft", "Hide the cohort while you change its set-up."),
    Cohort.Status.ENROLLING: (
        "Open enrolment",
        "People can apply through the cohort's link and accept invitations.",
    ),
    Cohort.Status.MATCHING: (
        "Start matching",
        "Enrolment closes; you run matching and review the proposed pairs.",
    ),
    Cohort.Status.ACTIVE: (
        "Start the cohort",
        "Published pairs begin their mentoring relationships.",
    ),
    Cohort.Status.CLOSING: (
        "Start closing",
        "Final feedback opens for every relationship.",
    ),
    Cohort.Status.CLOSED: ("Close the cohort", "Relationships end and outcomes are reported."),
}
MISSING_PROFILE_SHOWN = 10


def cohort_next_steps(*, cohort: Cohort) -> list[NextStep]:
    from .services import COHORT_NEXT_STATUSES, cohort_transition_problem

    steps = []
    for to_status in COHORT_NEXT_STATUSES[cohort.status]:
        label, explanation = STEP_LABELS[to_status]
        steps.append(
            NextStep(
                to_status=to_status,
                label=label,
                explanation=explanation,
                problem=cohort_transition_problem(cohort=cohort, to_status=to_status),
            )
        )
    return steps


def cohort_dashboard(*, cohort: Cohort) -> CohortDashboard:
    counts: dict[str, dict[str, int]] = {}
    for row in cohort.enrolments.values("role", "status").annotate(n=Count("pk")):
        counts.setdefault(row["role"], {})[row["status"]] = row["n"]
    approved = cohort.enrolments.filter(status=Enrolment.Status.APPROVED)
    mentor_roles = [Enrolment.Role.MENTOR, Enrolment.Role.PEER]
    # A mentor who left capacity empty takes the program's default, as matching will assume.
    capacity = approved.filter(role__in=mentor_roles).aggregate(
        total=Sum(Coalesce("capacity", Value(cohort.program.default_mentor_capacity)))
    )["total"]
    demand = approved.filter(role=Enrolment.Role.MENTEE).count()
    missing = enrolment_list_missing_profile(cohort=cohort)
    return CohortDashboard(
        counts=counts,
        mentor_capacity=capacity or 0,
        mentee_demand=demand,
        missing_profile=list(missing[:MISSING_PROFILE_SHOWN]),
        missing_profile_total=missing.count(),
        next_steps=cohort_next_steps(cohort=cohort),
        pending_invitations=cohort.invitations.filter(accepted_at__isnull=True).count(),
    )


def enrolment_list_missing_profile(*, cohort: Cohort) -> QuerySet[Enrolment]:
    """People in play whose profile or enrolment lacks what matching needs: a department and
    job level, a language, and at least one competency."""
    has_competency = EnrolmentCompetency.objects.filter(enrolment=OuterRef("pk"))
    return (
        cohort.enrolments.filter(status__in=[Enrolment.Status.APPROVED, Enrolment.Status.APPLIED])
        .annotate(has_competency=Exists(has_competency))
        .filter(
            Q(user__profile__isnull=True)
            | Q(user__profile__department="", user__profile__is_external=False)
            | Q(user__profile__job_level__isnull=True)
            | Q(user__profile__languages=[])
            | Q(has_competency=False)
        )
        .select_related("user__profile")
        .order_by("user__display_name")
    )


# --- Enrolment list -------------------------------------------------------------------------


def enrolment_list_for_cohort(
    *, cohort: Cohort, role: str = "", status: str = "", search: str = ""
) -> QuerySet[Enrolment]:
    enrolments = cohort.enrolments.select_related("user__profile").prefetch_related(
        Prefetch(
            "competency_links",
            queryset=EnrolmentCompetency.objects.select_related("competency").order_by(
                "competency__name"
            ),
        )
    )
    if role:
        enrolments = enrolments.filter(role=role)
    if status:
        enrolments = enrolments.filter(status=status)
    if search:
        enrolments = enrolments.filter(
            Q(user__display_name__icontains=search)
            | Q(user__email__icontains=search)
            | Q(user__profile__department__icontains=search)
        )
    return enrolments.order_by("role", "user__display_name", "pk")


def invitation_list_for_cohort(*, cohort: Cohort) -> QuerySet[Invitation]:
    return cohort.invitations.select_related("invited_by", "accepted_by").order_by("-created_at")


# --- Export ---------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    ("email", "Email"),
    ("display_name", "Name"),
    ("role", "Role"),
    ("status", "Status"),
    ("department", "Department"),
    ("job_title", "Job title"),
    ("job_level", "Job level"),
    ("manager_email", "Manager email"),
    ("location", "Location"),
    ("time_zone", "Time zone"),
    ("languages", "Languages"),
    ("capacity", "Capacity"),
    ("develop", "Wants to develop"),
    ("seek", "Skills sought"),
    ("offer", "Skills offered"),
    ("expertise", "Expertise"),
    ("development_goals", "Development goals"),
    ("hopes", "Hopes"),
    ("availability", "Availability"),
)


def enrolment_export_rows(*, cohort: Cohort) -> Iterator[list[str]]:
    """The cohort's participants as rows under EXPORT_COLUMNS, in the same shape the import
    reads, so an exported file can be edited and imported again."""
    enrolments = (
        cohort.enrolments.select_related("user__profile__manager")
        .prefetch_related(
            Prefetch(
                "competency_links",
                queryset=EnrolmentCompetency.objects.select_related("competency"),
            )
        )
        .order_by("role", "user__display_name", "pk")
    )
    for enrolment in enrolments.iterator(chunk_size=500):
        user = enrolment.user
        profile = getattr(user, "profile", None)
        terms: dict[str, list[str]] = {kind: [] for kind in EnrolmentCompetency.Kind.values}
        for link in enrolment.competency_links.all():
            terms[link.kind].append(link.competency.name)
        values = {
            "email": user.email,
            "display_name": user.display_name,
            "role": enrolment.role,
            "status": enrolment.status,
            "department": profile.department if profile else "",
            "job_title": profile.job_title if profile else "",
            "job_level": str(profile.job_level) if profile and profile.job_level else "",
            "manager_email": profile.manager.email if profile and profile.manager else "",
            "location": profile.location if profile else "",
            "time_zone": user.time_zone,
            "languages": "; ".join(profile.languages) if profile else "",
            "capacity": "" if enrolment.capacity is None else str(enrolment.capacity),
            **{kind: "; ".join(sorted(names)) for kind, names in terms.items()},
            "development_goals": enrolment.development_goals,
            "hopes": enrolment.hopes,
            "availability": enrolment.availability,
        }
        yield [values[key] for key, _ in EXPORT_COLUMNS]


# --- Vocabulary -----------------------------------------------------------------------------

SUGGESTION_LIMIT = 10


def competency_suggest(*, query: str, limit: int = SUGGESTION_LIMIT) -> list[str]:
    """Approved terms whose name or a synonym contains `query`: names starting with it first,
    then alphabetical. Ranked in the database, so a popular word cannot push the best match out
    of the first page."""
    query = " ".join(query.split())
    if not query:
        return []
    synonym_hits = CompetencySynonym.objects.filter(name__icontains=query).values("competency")
    starts = Case(When(name__istartswith=query, then=Value(0)), default=Value(1))
    return list(
        Competency.objects.filter(status=Competency.Status.APPROVED)
        .filter(Q(name__icontains=query) | Q(pk__in=synonym_hits))
        .order_by(starts, Lower("name"))
        .values_list("name", flat=True)[:limit]
    )


def competency_list_for_review(*, status: str = "", search: str = "") -> QuerySet[Competency]:
    competencies = Competency.objects.annotate(uses=Count("enrolments", distinct=True))
    if status:
        competencies = competencies.filter(status=status)
    if search:
        competencies = competencies.filter(
            Q(name__icontains=search) | Q(synonyms__name__icontains=search)
        ).distinct()
    return (
        competencies.select_related("suggested_by")
        .prefetch_related("synonyms")
        .order_by("status", "name")
    )
