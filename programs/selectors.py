"""Reads for programs, cohorts and enrolments. Every read a coordinator or participant makes goes
through a `*_visible_to(user=...)` here, so a view that fetches by id can only 404 for outsiders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, TypedDict

from django.db.models import (
    Case,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Lower

from accounts.models import User

from .models import (
    Announcement,
    BulkJob,
    Cohort,
    CohortQuestion,
    Competency,
    CompetencySynonym,
    Enrolment,
    EnrolmentCompetency,
    Invitation,
    ParticipantImport,
    Program,
)
from .rules import (
    COHORT_NEEDS_MENTORS_AND_MENTEES,
    COHORT_NEEDS_PUBLISHED_MATCHES,
    COHORT_NEEDS_TWO_PEERS,
    COHORT_NEXT_STATUSES,
    COHORT_REOPEN_AFTER_PUBLISHING,
    COHORT_TRANSITION_NOT_ALLOWED,
    ENROLMENT_EDIT_CLOSED,
    INVITATION_EXPIRED,
    INVITATION_FOR_SOMEONE_ELSE,
    INVITATION_USED,
    WITHDRAW_ONLY_OPEN,
    cohort_starts_later,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class CompetencyUses(TypedDict):
    uses: int


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


# --- The organisation, for an administrator ------------------------------------------------

ORGANISATION_PROGRAMS_SHOWN = 50
RUNNING_COHORT_STATUSES = (
    Cohort.Status.ENROLLING,
    Cohort.Status.MATCHING,
    Cohort.Status.ACTIVE,
    Cohort.Status.CLOSING,
)


@dataclass(frozen=True)
class OrganisationOverview:
    """What an administrator who coordinates no program sees outside the Django admin: every
    program with its cohorts, people and coordinators counted (the first 50 by name)."""

    programs: list[Program]
    program_total: int
    running_cohorts: int
    people: int  # distinct people in any cohort, withdrawn people aside

    @property
    def more_programs(self) -> int:
        return max(0, self.program_total - len(self.programs))


def organisation_overview() -> OrganisationOverview:
    """Four queries, whatever the organisation's size. Only for staff: it lists every
    program, which a coordinator may not see."""
    present = ~Q(cohorts__enrolments__status=Enrolment.Status.WITHDRAWN)
    programs = Program.objects.annotate(
        cohort_count=Count("cohorts", distinct=True),
        running_count=Count(
            "cohorts", filter=Q(cohorts__status__in=RUNNING_COHORT_STATUSES), distinct=True
        ),
        participant_count=Count("cohorts__enrolments", filter=present, distinct=True),
        coordinator_count=Count("coordinators", distinct=True),
    ).order_by("name")
    return OrganisationOverview(
        programs=list(programs[:ORGANISATION_PROGRAMS_SHOWN]),
        program_total=Program.objects.count(),
        running_cohorts=Cohort.objects.filter(status__in=RUNNING_COHORT_STATUSES).count(),
        people=Enrolment.objects.exclude(status=Enrolment.Status.WITHDRAWN)
        .values("user_id")
        .distinct()
        .count(),
    )


# --- Permission-scoped lookups --------------------------------------------------------------


def program_list_visible_to(*, user: User) -> QuerySet[Program]:
    """Programs whose pages `user` may open: the ones they coordinate."""
    if not user.is_authenticated:
        return Program.objects.none()
    return Program.objects.filter(coordinators=user)


def program_coordinator_get(*, program: Program, user_id: int) -> User | None:
    """The coordinator of `program` with this id, or None when nobody by that id coordinates it."""
    return program.coordinators.filter(pk=user_id).first()


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


def enrolment_get_for_participant(*, user: User, cohort: Cohort) -> Enrolment | None:
    """`user`'s own enrolment in `cohort`, if they have one (withdrawn included)."""
    return enrolment_list_visible_to_participant(user=user).filter(cohort=cohort).first()


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


# --- Rules checked before a write ------------------------------------------------------------
# The services refuse with these; pages ask them first to offer only what can be done.


def program_kind_is_fixed(*, program: Program) -> bool:
    """Matching and relationships depend on the kind; once people have been let in, it stays."""
    return program.pk is not None and program.cohorts.exclude(status=Cohort.Status.DRAFT).exists()


def _cohort_has_published_matches(cohort: Cohort) -> bool:
    """Publishing a cohort's matches creates its relationships. Relationships belong to the
    matching app, which builds on this one: asked through the reverse relation's name so this
    module need not import it."""
    return cohort.relationships.exists()


def cohort_transition_problem(*, cohort: Cohort, to_status: str) -> str | None:
    """Why `cohort` cannot move to `to_status` now, or None when it can. Shared by the service
    (which refuses) and the dashboard (which explains the next step before it is tried)."""
    if to_status not in COHORT_NEXT_STATUSES[cohort.status]:
        target = dict(Cohort.Status.choices).get(to_status, to_status)
        return COHORT_TRANSITION_NOT_ALLOWED.format(
            current=cohort.get_status_display().lower(), target=str(target).lower()
        )
    if to_status == Cohort.Status.MATCHING:
        approved = cohort.enrolments.filter(status=Enrolment.Status.APPROVED)
        if cohort.program.kind == Program.Kind.PEER:
            if approved.filter(role=Enrolment.Role.PEER).count() < 2:
                return COHORT_NEEDS_TWO_PEERS
        elif not (
            approved.filter(role=Enrolment.Role.MENTOR).exists()
            and approved.filter(role=Enrolment.Role.MENTEE).exists()
        ):
            return COHORT_NEEDS_MENTORS_AND_MENTEES
    if to_status == Cohort.Status.ACTIVE and not _cohort_has_published_matches(cohort):
        return COHORT_NEEDS_PUBLISHED_MATCHES
    if (
        cohort.status == Cohort.Status.MATCHING
        and to_status == Cohort.Status.ENROLLING
        and _cohort_has_published_matches(cohort)
    ):
        return COHORT_REOPEN_AFTER_PUBLISHING
    return None


def enrolment_edit_problem(*, enrolment: Enrolment) -> str | None:
    """Why the participant cannot change their details now, or None."""
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        return "You withdrew from this cohort: apply again to take part."
    if enrolment.cohort.status == Cohort.Status.CLOSED:
        return ENROLMENT_EDIT_CLOSED
    return None


def enrolment_withdraw_problem(*, enrolment: Enrolment) -> str | None:
    """Why the participant cannot withdraw now, or None."""
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        return "You have already withdrawn."
    if enrolment.cohort.status in (Cohort.Status.CLOSING, Cohort.Status.CLOSED):
        return WITHDRAW_ONLY_OPEN
    return None


def invitation_problem(*, invitation: Invitation) -> str | None:
    if invitation.is_used:
        return INVITATION_USED
    if invitation.is_expired:
        return INVITATION_EXPIRED
    return None


# --- A participant's own enrolment ----------------------------------------------------------


def competency_names_by_kind(*, enrolment: Enrolment) -> dict[str, list[str]]:
    """The enrolment's terms, kind → names in alphabetical order (any case)."""
    names: dict[str, list[str]] = {}
    for link in enrolment.competency_links.select_related("competency"):
        names.setdefault(link.kind, []).append(link.competency.name)
    return {kind: sorted(terms, key=str.lower) for kind, terms in names.items()}


def enrolment_application_answers(*, enrolment: Enrolment) -> list[tuple[str, str]]:
    """The cohort's application questions with what the participant answered, as they read."""
    answers = enrolment.application_answers or {}
    questions = []
    for question in enrolment.cohort.questions.all():
        answer = answers.get(str(question.pk), "")
        if question.answer_kind == CohortQuestion.AnswerKind.YES_NO and answer:
            answer = "Yes" if answer == "yes" else "No"
        questions.append((question.text, answer))
    return questions


def enrolment_participant_actions(*, enrolment: Enrolment) -> dict[str, bool]:
    """Which buttons the participant gets: the services' own rules decide."""
    withdrawn = enrolment.status == Enrolment.Status.WITHDRAWN
    return {
        "can_edit": enrolment_edit_problem(enrolment=enrolment) is None,
        "can_withdraw": enrolment_withdraw_problem(enrolment=enrolment) is None,
        "can_apply_again": withdrawn and enrolment.cohort.enrolment_window_is_open,
    }


# --- Invitations ----------------------------------------------------------------------------


def invitation_list_for_link_holders() -> QuerySet[Invitation]:
    """Invitations as the person holding a link sees them (fetched by token, not by who asks)."""
    return Invitation.objects.select_related("cohort__program", "invited_by")


@dataclass(frozen=True)
class InvitationState:
    """Where the person holding an invitation link stands, and so which page they see."""

    class Step(StrEnum):
        PROBLEM = "problem"  # the link is used or expired: see `problem`
        SOMEONE_ELSE = "someone_else"  # signed in as another person: see `problem`
        ACCEPT = "accept"  # signed in as the invited person: one button accepts
        SIGN_IN = "sign_in"  # the invited person has a password: they sign in first
        NEW_ACCOUNT = "new_account"  # nobody can sign in as them yet: name and password here

    step: Step
    problem: str = ""
    own_enrolment: Enrolment | None = None  # the enrolment a used link gave this very person
    display_name: str = ""  # the name of an account made for them without a password


def invitation_state_for(*, invitation: Invitation, user: User | None) -> InvitationState:
    """What `user` (None when nobody is signed in) may do with `invitation`."""
    step = InvitationState.Step
    problem = invitation_problem(invitation=invitation)
    if problem:
        own = None
        if user is not None and invitation.accepted_by_id == user.pk:
            own = enrolment_get_for_participant(user=user, cohort=invitation.cohort)
        return InvitationState(step=step.PROBLEM, problem=problem, own_enrolment=own)
    if user is not None:
        if user.email.lower() != invitation.email:
            someone_else = INVITATION_FOR_SOMEONE_ELSE.format(email=invitation.email)
            return InvitationState(step=step.SOMEONE_ELSE, problem=someone_else)
        return InvitationState(step=step.ACCEPT)
    existing = User.objects.filter(email__iexact=invitation.email).first()
    if existing is not None and existing.has_usable_password():
        return InvitationState(step=step.SIGN_IN)
    return InvitationState(
        step=step.NEW_ACCOUNT, display_name=existing.display_name if existing else ""
    )


# --- Cohort dashboard -----------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    to_status: str
    label: str
    explanation: str
    problem: str | None
    # Starting the cohort before this date (its start, still to come) asks for confirmation.
    early_start_before: dt.date | None = None


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


STEP_LABELS: dict[str, tuple[str, str]] = {
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
    steps = []
    for to_status in COHORT_NEXT_STATUSES[cohort.status]:
        label, explanation = STEP_LABELS[to_status]
        steps.append(
            NextStep(
                to_status=to_status,
                label=label,
                explanation=explanation,
                problem=cohort_transition_problem(cohort=cohort, to_status=to_status),
                early_start_before=(
                    cohort_starts_later(cohort) if to_status == Cohort.Status.ACTIVE else None
                ),
            )
        )
    return steps


def cohort_dashboard(*, cohort: Cohort) -> CohortDashboard:
    counts: dict[str, dict[str, int]] = {}
    capacity = 0
    mentor_roles = [Enrolment.Role.MENTOR, Enrolment.Role.PEER]
    # Places are summed with the counts, in one query: approved mentors' are the capacity. A
    # mentor who left capacity empty takes the program's default, as matching will assume.
    for row in cohort.enrolments.values("role", "status").annotate(
        n=Count("pk"),
        places=Sum(Coalesce("capacity", Value(cohort.program.default_mentor_capacity))),
    ):
        counts.setdefault(row["role"], {})[row["status"]] = row["n"]
        if row["status"] == Enrolment.Status.APPROVED and row["role"] in mentor_roles:
            capacity += row["places"] or 0
    demand = counts.get(Enrolment.Role.MENTEE, {}).get(Enrolment.Status.APPROVED, 0)
    # The first few and how many there are in all (a window over the same rows): every
    # enrolment in play is read for it, so the database sorts and counts bare ids (half the
    # time of whole rows on a cohort of 2,500), then the few shown are read in full.
    missing = enrolment_list_missing_profile(cohort=cohort)
    first = list(
        missing.annotate(total=Window(Count("pk"))).values_list("pk", "total")[
            :MISSING_PROFILE_SHOWN
        ]
    )
    first_missing = list(missing.filter(pk__in=[pk for pk, _ in first]))
    return CohortDashboard(
        counts=counts,
        mentor_capacity=capacity,
        mentee_demand=demand,
        missing_profile=first_missing,
        missing_profile_total=first[0][1] if first else 0,
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
        .order_by("user__display_name", "pk")
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


def competency_list_for_review(
    *, status: str = "", search: str = ""
) -> QuerySet[WithAnnotations[Competency, CompetencyUses]]:
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


# --- Announcements --------------------------------------------------------------------------


def announcement_recipient_list(*, cohort: Cohort, role: str) -> QuerySet[User]:
    """Who reads an announcement to `cohort`: everyone approved in it, or those approved in
    `role` ("" for everyone), with an active account; ordered by id so delivery can go in
    batches and pick up where it stopped."""
    enrolments = Enrolment.objects.filter(cohort=cohort, status=Enrolment.Status.APPROVED)
    if role:
        enrolments = enrolments.filter(role=role)
    return User.objects.filter(is_active=True, pk__in=enrolments.values("user_id")).order_by("pk")


def announcement_list_for_cohort(*, cohort: Cohort) -> QuerySet[Announcement]:
    return cohort.announcements.select_related("created_by").order_by("-created_at", "-pk")


def announcement_list_visible_to(*, user: User) -> QuerySet[Announcement]:
    """Announcements `user` may read: those of the programs they coordinate, and those written
    to them (approved in the cohort, in the role it was for)."""
    if not user.is_authenticated:
        return Announcement.objects.none()
    approved = Enrolment.objects.filter(
        cohort=OuterRef("cohort"), user=user, status=Enrolment.Status.APPROVED
    )
    return (
        Announcement.objects.alias(
            coordinates=Exists(
                Program.objects.filter(pk=OuterRef("cohort__program"), coordinators=user)
            ),
            approved_in_cohort=Exists(approved),
            approved_in_role=Exists(approved.filter(role=OuterRef("role"))),
        )
        .filter(
            Q(coordinates=True) | Q(role="", approved_in_cohort=True) | Q(approved_in_role=True)
        )
        .select_related("cohort__program", "created_by")
    )


def announcement_list_coordinated_by(*, user: User) -> QuerySet[Announcement]:
    """Announcements whose delivery `user` may follow: those of the programs they coordinate."""
    if not user.is_authenticated:
        return Announcement.objects.none()
    return Announcement.objects.filter(cohort__program__coordinators=user).select_related(
        "cohort__program", "created_by"
    )


def bulk_job_list_visible_to(*, user: User) -> QuerySet[BulkJob]:
    """Jobs over many people (publishing, invitations) whose progress `user` may follow: those
    of the programs they coordinate."""
    if not user.is_authenticated:
        return BulkJob.objects.none()
    return BulkJob.objects.filter(cohort__program__coordinators=user).select_related(
        "cohort__program", "created_by"
    )


def bulk_job_active_for(*, key: str) -> BulkJob | None:
    """The job queued or running for `key` (e.g. "import:5:invite"), if any."""
    return BulkJob.objects.filter(key=key, status__in=BulkJob.ACTIVE_STATUSES).first()


def bulk_job_list_active_for_cohort(*, cohort: Cohort, kind: str) -> list[BulkJob]:
    """The jobs of `kind` queued or running in `cohort`, oldest first, for its pages to show."""
    return list(
        cohort.bulk_jobs.filter(kind=kind, status__in=BulkJob.ACTIVE_STATUSES).order_by(
            "created_at", "pk"
        )
    )
