"""Reads for matching: a cohort as the engine sees it, runs and their results, and the places
people may open. Coordinators reach runs only through `match_run_list_visible_to`."""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Profile, User
from programs.models import Cohort, Enrolment, EnrolmentCompetency, Program

from .engine import MatchSettings, Pair, Person, Rules, Weights, scoring
from .engine.api import Prematch, prematch, scored_matrix
from .engine.explain import pair_reasons
from .models import (
    MatchExclusion,
    MatchingConfig,
    MatchRun,
    MentorRequest,
    Proposal,
    Relationship,
    RelationshipMember,
    UnmatchedResult,
)

MODE_BY_KIND = {
    Program.Kind.ONE_TO_ONE: "one_to_one",
    Program.Kind.REVERSE: "reverse",
    Program.Kind.PEER: "peer",
    Program.Kind.CIRCLE: "circle",
}


def cohort_has_published_matches(*, cohort: Cohort) -> bool:
    """Whether the cohort's matches are published (its relationships exist): the guard the
    cohort lifecycle asks before a cohort becomes active."""
    return Relationship.objects.filter(cohort=cohort).exists()


# --- Settings -------------------------------------------------------------------------------


def matching_config_for(*, program: Program) -> MatchingConfig:
    """The program's saved settings, or the defaults (unsaved) when it has none yet."""
    try:
        return program.matching_config
    except MatchingConfig.DoesNotExist:
        return MatchingConfig(program=program)


@dataclass(frozen=True)
class Relaxation:
    """Rules a coordinator may switch off for one run, to see who it would let in."""

    language: bool = False
    time_zone: bool = False
    past_partners: bool = False


NO_RELAXATION = Relaxation()


def match_settings_for(
    *,
    cohort: Cohort,
    objective: str = MatchRun.Objective.SCORE,
    locked_pairs: tuple[tuple[int, int], ...] = (),
    relax: Relaxation = NO_RELAXATION,
) -> MatchSettings:
    program = cohort.program
    config = matching_config_for(program=program)
    excluded = frozenset(
        MatchExclusion.objects.filter(cohort=cohort).values_list("first_id", "second_id")
    )
    return MatchSettings(
        mode=MODE_BY_KIND[program.kind],
        objective=objective,
        weights=config.weights,
        rules=Rules(
            require_shared_language=config.require_shared_language and not relax.language,
            max_time_zone_gap_hours=None if relax.time_zone else config.max_time_zone_gap_hours,
            allow_past_partners=config.allow_past_partners or relax.past_partners,
            max_peer_level_gap=config.max_peer_level_gap,
            excluded_pairs=excluded,
        ),
        locked_pairs=locked_pairs,
        circle_size=program.circle_size,
        mentors_per_circle=program.mentors_per_circle,
    )


def match_settings_as_parameters(settings: MatchSettings) -> dict:
    """What a run stores about how it was made, in plain JSON."""
    return {
        "mode": settings.mode,
        "objective": settings.objective,
        "weights": settings.weights.as_dict(),
        "rules": {
            "require_shared_language": settings.rules.require_shared_language,
            "max_time_zone_gap_hours": settings.rules.max_time_zone_gap_hours,
            "allow_past_partners": settings.rules.allow_past_partners,
            "max_peer_level_gap": settings.rules.max_peer_level_gap,
            "excluded_pairs": sorted(list(pair) for pair in settings.rules.excluded_pairs),
        },
        "locked_pairs": [list(pair) for pair in settings.locked_pairs],
    }


def match_settings_from_parameters(parameters: dict) -> MatchSettings:
    """Rebuild a run's settings from what it stored, so a run is repeatable as it was asked."""
    rules = parameters.get("rules", {})
    return MatchSettings(
        mode=parameters.get("mode", "one_to_one"),
        objective=parameters.get("objective", "score"),
        weights=Weights(**parameters.get("weights", {})),
        rules=Rules(
            require_shared_language=rules.get("require_shared_language", True),
            max_time_zone_gap_hours=rules.get("max_time_zone_gap_hours"),
            allow_past_partners=rules.get("allow_past_partners", False),
            max_peer_level_gap=rules.get("max_peer_level_gap", 2),
            excluded_pairs=frozenset(tuple(p) for p in rules.get("excluded_pairs", [])),
        ),
        locked_pairs=tuple(tuple(p) for p in parameters.get("locked_pairs", [])),
        circle_size=parameters.get("circle_size", 5),
        mentors_per_circle=parameters.get("mentors_per_circle", 1),
    )


# --- The cohort as the engine sees it -------------------------------------------------------


def _utc_offset(time_zone: str, on: dt.date) -> float | None:
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    offset = dt.datetime.combine(on, dt.time(12), tzinfo=zone).utcoffset()
    return offset.total_seconds() / 3600 if offset is not None else None


def matchable_enrolments(*, cohort: Cohort) -> QuerySet[Enrolment]:
    """Who takes part in matching: approved people only."""
    return cohort.enrolments.filter(status=Enrolment.Status.APPROVED)


def cohort_people(
    *, cohort: Cohort, enrolments: QuerySet[Enrolment] | None = None
) -> tuple[list[Person], dict[int, str]]:
    """The cohort's approved people (or the given enrolments) as engine records, and the
    competency names by id. A fixed number of queries whatever the cohort's size."""
    if enrolments is None:
        enrolments = matchable_enrolments(cohort=cohort)
    rows = list(
        enrolments.select_related("user__profile").prefetch_related(
            Prefetch(
                "competency_links",
                queryset=EnrolmentCompetency.objects.select_related("competency"),
            )
        )
    )
    user_ids = [e.user_id for e in rows]
    managers = _managers_of(user_ids)
    managers.update(_managers_of(list(set(managers.values()) - set(managers))))
    past = past_partners(user_ids=user_ids, excluding_cohort=cohort)
    names: dict[int, str] = {}
    people = []
    program_capacity = cohort.program.default_mentor_capacity
    for enrolment in rows:
        user = enrolment.user
        profile = getattr(user, "profile", None)
        terms: dict[str, set[int]] = defaultdict(set)
        for link in enrolment.competency_links.all():
            terms[link.kind].add(link.competency_id)
            names[link.competency_id] = link.competency.name
        manager = managers.get(user.id)
        chain = {m for m in (manager, managers.get(manager) if manager else None) if m}
        if enrolment.role == Enrolment.Role.MENTEE:
            capacity, text = 1, f"{enrolment.development_goals} {enrolment.hopes}"
        else:
            capacity = enrolment.capacity if enrolment.capacity is not None else program_capacity
            text = profile.bio if profile else ""
        people.append(
            Person(
                id=enrolment.pk,
                user_id=user.id,
                role=enrolment.role,
                capacity=capacity,
                develop=frozenset(terms["develop"]),
                seek=frozenset(terms["seek"]),
                offer=frozenset(terms["offer"]),
                expertise=frozenset(terms["expertise"]),
                department=(profile.department if profile else "").strip().lower(),
                level=profile.job_level if profile else None,
                reporting_chain=frozenset(chain),
                utc_offset_hours=_utc_offset(user.time_zone, cohort.starts_on),
                languages=frozenset(
                    lang.strip().lower() for lang in (profile.languages if profile else []) if lang
                ),
                prefers_other_department=enrolment.prefers_other_department,
                prefers_same_time_zone=enrolment.prefers_same_time_zone,
                past_partner_user_ids=frozenset(past.get(user.id, ())),
                text=text,
            )
        )
    return people, names


def run_people(*, cohort: Cohort) -> tuple[list[Person], dict[int, str]]:
    """Who a new run matches: approved people without an active relationship yet, and mentors
    with the places their active relationships leave them (none left: not in the run). So a
    run after publishing, self-service or a rematch proposes only what is still open."""
    active = RelationshipMember.objects.filter(
        relationship__cohort=cohort, relationship__status=Relationship.Status.ACTIVE
    )
    partnered = set(
        active.exclude(role=RelationshipMember.Role.MENTOR).values_list("enrolment_id", flat=True)
    )
    led = mentor_load(cohort=cohort, count_waiting_requests=False)
    people, names = cohort_people(
        cohort=cohort, enrolments=matchable_enrolments(cohort=cohort).exclude(pk__in=partnered)
    )
    open_people = []
    for person in people:
        if person.role == Enrolment.Role.MENTOR and led.get(person.id):
            left = person.capacity - led[person.id]
            if left <= 0:
                continue
            person = replace(person, capacity=left)
        open_people.append(person)
    return open_people, names


def _managers_of(user_ids: list[int]) -> dict[int, int]:
    return dict(
        Profile.objects.filter(user_id__in=user_ids, manager__isnull=False).values_list(
            "user_id", "manager_id"
        )
    )


def past_partners(*, user_ids: list[int], excluding_cohort: Cohort) -> dict[int, set[int]]:
    """For each user, everyone they shared a relationship with in another cohort."""
    memberships = RelationshipMember.objects.filter(
        relationship__in=RelationshipMember.objects.filter(enrolment__user_id__in=user_ids)
        .exclude(relationship__cohort=excluding_cohort)
        .values("relationship_id")
    ).values_list("relationship_id", "enrolment__user_id")
    members: dict[int, set[int]] = defaultdict(set)
    for relationship_id, user_id in memberships:
        members[relationship_id].add(user_id)
    partners: dict[int, set[int]] = defaultdict(set)
    for users in members.values():
        for user_id in users:
            partners[user_id] |= users - {user_id}
    return partners


def prematch_report(
    *, cohort: Cohort, relax: Relaxation = NO_RELAXATION
) -> tuple[Prematch, dict[int, Enrolment]]:
    """Who the rules leave with nobody, and what relaxing a rule would change; with the
    enrolments by id so a page can name them."""
    people, _ = run_people(cohort=cohort)
    report = prematch(people=people, settings=match_settings_for(cohort=cohort, relax=relax))
    blocked_ids = [u.person_id for u in report.blocked]
    enrolments = cohort.enrolments.select_related("user").in_bulk(blocked_ids)
    return report, enrolments


# --- Runs and results -----------------------------------------------------------------------


def match_run_list_visible_to(*, user: User) -> QuerySet[MatchRun]:
    """Runs of cohorts whose program `user` coordinates."""
    if not user.is_authenticated:
        return MatchRun.objects.none()
    return MatchRun.objects.filter(cohort__program__coordinators=user).select_related(
        "cohort__program", "created_by"
    )


def match_run_list_for_cohort(*, cohort: Cohort) -> QuerySet[MatchRun]:
    # An aggregate drops Meta.ordering, so newest first is said again here.
    return (
        cohort.match_runs.select_related("created_by")
        .annotate(
            accepted=Count("proposals", filter=Q(proposals__decision=Proposal.Decision.ACCEPTED))
        )
        .order_by("-created_at", "-pk")
    )


def proposal_list_for_run(*, run: MatchRun) -> QuerySet[Proposal]:
    return run.proposals.select_related(
        "mentor__user__profile", "mentee__user__profile", "swapped_from__user"
    ).order_by("circle_number", "-score", "pk")


def unmatched_list_for_run(*, run: MatchRun) -> QuerySet[UnmatchedResult]:
    return run.unmatched.select_related("enrolment__user").order_by("reason_code", "pk")


@dataclass
class RunComparison:
    same: int  # pairs both runs propose
    only_first: list[Proposal]
    only_second: list[Proposal]
    objective_change: float | None
    matched_change: int


def match_run_compare(*, first: MatchRun, second: MatchRun) -> RunComparison:
    def pairs(run: MatchRun) -> dict[tuple[int, int], Proposal]:
        return {(p.mentor_id, p.mentee_id): p for p in proposal_list_for_run(run=run)}

    a, b = pairs(first), pairs(second)
    objective_change = None
    if first.objective_value is not None and second.objective_value is not None:
        objective_change = second.objective_value - first.objective_value
    return RunComparison(
        same=len(a.keys() & b.keys()),
        only_first=[a[k] for k in sorted(a.keys() - b.keys())],
        only_second=[b[k] for k in sorted(b.keys() - a.keys())],
        objective_change=objective_change,
        matched_change=second.matched_count - first.matched_count,
    )


# --- Capacity -------------------------------------------------------------------------------


def mentor_load(*, cohort: Cohort, count_waiting_requests: bool = True) -> dict[int, int]:
    """Mentor enrolment id → places taken: active relationships, plus requests waiting for an
    answer unless told not to (so popular mentors stop being recommended before they are
    swamped)."""
    load: dict[int, int] = defaultdict(int)
    relationships = (
        RelationshipMember.objects.filter(
            relationship__cohort=cohort,
            relationship__status=Relationship.Status.ACTIVE,
            role__in=[RelationshipMember.Role.MENTOR, RelationshipMember.Role.PEER],
        )
        .values("enrolment_id")
        .annotate(n=Count("pk"))
        .values_list("enrolment_id", "n")
    )
    waiting = (
        MentorRequest.objects.filter(
            cohort=cohort, status__in=[MentorRequest.Status.PENDING, MentorRequest.Status.QUESTION]
        )
        .values("mentor_id")
        .annotate(n=Count("pk"))
        .values_list("mentor_id", "n")
    )
    for enrolment_id, count in [*relationships, *(waiting if count_waiting_requests else [])]:
        load[enrolment_id] += count
    return load


def relationship_list_visible_to(*, user: User) -> QuerySet[Relationship]:
    """Members, and the coordinators of the relationship's program; nobody else."""
    if not user.is_authenticated:
        return Relationship.objects.none()
    return (
        Relationship.objects.filter(
            Q(members__enrolment__user=user) | Q(cohort__program__coordinators=user)
        )
        .select_related("cohort__program")
        .distinct()
    )


def active_relationship_of(*, enrolment: Enrolment) -> Relationship | None:
    return (
        Relationship.objects.filter(status=Relationship.Status.ACTIVE, members__enrolment=enrolment)
        .order_by("-started_at")
        .first()
    )


# Sent and waiting for the mentor's answer (queued ones the mentor has not seen yet).
WAITING_STATUSES = (MentorRequest.Status.PENDING, MentorRequest.Status.QUESTION)
HISTORY_LIMIT = 50
SELF_SERVICE_STATUSES = (Cohort.Status.MATCHING, Cohort.Status.ACTIVE)


# --- Participants: their matches, recommendations and requests ---------------------------


@dataclass(frozen=True)
class Partnership:
    """One of the participant's active relationships and the other people in it."""

    relationship: Relationship
    partners: list[RelationshipMember]


@dataclass(frozen=True)
class ParticipationSummary:
    """What the participant's enrolment page says about matching, in a fixed number of
    queries: who they are matched with, whether they may choose a mentor, and, for mentors,
    how many requests wait for their answer."""

    heading: str
    partnerships: list[Partnership]
    can_choose_mentor: bool
    shows_request_inbox: bool
    waiting_requests: int

    @property
    def relationship(self) -> Relationship | None:
        return self.partnerships[0].relationship if self.partnerships else None

    @property
    def members(self) -> list[RelationshipMember]:
        return [member for p in self.partnerships for member in p.partners]


def participation_summary(*, enrolment: Enrolment) -> ParticipationSummary:
    """`enrolment` must come with its cohort and program (as the participant selector gives)."""
    program = enrolment.cohort.program
    memberships = list(
        RelationshipMember.objects.filter(
            enrolment=enrolment, relationship__status=Relationship.Status.ACTIVE
        )
        .select_related("relationship")
        .prefetch_related(
            Prefetch(
                "relationship__members",
                queryset=RelationshipMember.objects.select_related("enrolment__user"),
            )
        )
        .order_by("-relationship__started_at")
    )
    partnerships = [
        Partnership(
            relationship=m.relationship,
            partners=[p for p in m.relationship.members.all() if p.enrolment_id != enrolment.pk],
        )
        for m in memberships
    ]
    approved = enrolment.status == Enrolment.Status.APPROVED
    is_mentor = enrolment.role == Enrolment.Role.MENTOR
    shows_inbox = approved and is_mentor and program.mentees_may_request
    return ParticipationSummary(
        heading=_partners_heading(enrolment, partnerships),
        partnerships=partnerships,
        can_choose_mentor=(
            approved
            and enrolment.role == Enrolment.Role.MENTEE
            and program.mentees_may_request
            and enrolment.cohort.status in SELF_SERVICE_STATUSES
            and not partnerships
        ),
        shows_request_inbox=shows_inbox,
        waiting_requests=(
            enrolment.requests_received.filter(status__in=WAITING_STATUSES).count()
            if shows_inbox
            else 0
        ),
    )


def _partners_heading(enrolment: Enrolment, partnerships: list[Partnership]) -> str:
    if any(p.relationship.kind == Relationship.Kind.CIRCLE for p in partnerships):
        return "Your circle"
    if enrolment.role == Enrolment.Role.MENTEE:
        return "Your mentor"
    if enrolment.role == Enrolment.Role.MENTOR:
        return "Your mentees" if len(partnerships) > 1 else "Your mentee"
    return "Your peer partner"


@dataclass(frozen=True)
class MentorCandidate:
    """A mentor one mentee could have, as the engine scores and explains the pair."""

    enrolment: Enrolment  # with user and user.profile
    score: float  # 0..1
    reasons: list[str]
    places_left: int

    @property
    def percent(self) -> int:
        return round(self.score * 100)

    @property
    def profile(self) -> Profile | None:
        return getattr(self.enrolment.user, "profile", None)

    @property
    def choice_label(self) -> str:
        return f"{self.enrolment.user.display_name} ({self.percent}% fit)"


def mentor_candidates(
    *,
    mentee: Enrolment,
    places_left: dict[int, int],
    limit: int = 10,
    settings: MatchSettings | None = None,
) -> list[MentorCandidate]:
    """The best mentors for one mentee among `places_left` (mentor enrolment id → free places)
    that the hard rules allow, scored and explained exactly as in a matching run, best first.

    The one read behind self-service recommendations, a coordinator's replacement search and
    a hand swap; each passes its own idea of a free place. A fixed number of queries."""
    cohort = mentee.cohort
    ids = [pk for pk, left in places_left.items() if left > 0 and pk != mentee.pk]
    if not ids:
        return []
    people, names = cohort_people(
        cohort=cohort, enrolments=cohort.enrolments.filter(pk__in=[mentee.pk, *ids])
    )
    mentee_person = next((p for p in people if p.id == mentee.pk), None)
    mentors = sorted((p for p in people if p.id != mentee.pk), key=lambda p: p.id)
    if mentee_person is None or not mentors:
        return []
    settings = settings or match_settings_for(cohort=cohort)
    scores, _, text = scored_matrix([mentee_person], mentors, settings)
    row = scores[0]
    best = sorted(np.flatnonzero(row >= 0), key=lambda j: (-row[j], mentors[j].id))[:limit]
    shown = Enrolment.objects.select_related("user__profile").in_bulk([mentors[j].id for j in best])
    candidates = []
    for j in best:
        mentor = mentors[j]
        parts, shared = scoring.pair_components(
            mentee_person, mentor, settings, float(text[0, j]) if text is not None else 0.0
        )
        pair = Pair(
            mentor_id=mentor.id,
            mentee_id=mentee_person.id,
            score=float(row[j]),
            components=parts,
            shared=shared,
        )
        candidates.append(
            MentorCandidate(
                enrolment=shown[mentor.id],
                score=float(row[j]),
                reasons=pair_reasons(pair, mentee_person, mentor, names=names, settings=settings),
                places_left=places_left[mentor.id],
            )
        )
    return candidates


def _mentor_capacities(cohort: Cohort) -> dict[int, int]:
    default = cohort.program.default_mentor_capacity
    return {
        pk: capacity if capacity is not None else default
        for pk, capacity in matchable_enrolments(cohort=cohort)
        .filter(role=Enrolment.Role.MENTOR)
        .values_list("pk", "capacity")
    }


def places_left_in_cohort(*, cohort: Cohort, count_waiting_requests: bool) -> dict[int, int]:
    """Approved mentors' free places now: capacity less active relationships, and less
    requests waiting for an answer when `count_waiting_requests` (self-service, so popular
    mentors are not swamped)."""
    load = mentor_load(cohort=cohort, count_waiting_requests=count_waiting_requests)
    return {pk: capacity - load.get(pk, 0) for pk, capacity in _mentor_capacities(cohort).items()}


def places_left_in_run(*, run: MatchRun) -> dict[int, int]:
    """Mentors' free places in a run under review: capacity less its pairs not rejected."""
    taken = dict(
        run.proposals.exclude(decision=Proposal.Decision.REJECTED)
        .values("mentor_id")
        .annotate(n=Count("pk"))
        .values_list("mentor_id", "n")
    )
    return {
        pk: capacity - taken.get(pk, 0) for pk, capacity in _mentor_capacities(run.cohort).items()
    }


def mentor_recommendations(*, mentee: Enrolment, limit: int = 10) -> list[MentorCandidate]:
    """Self-service: the mentors a mentee may ask, best first."""
    places = places_left_in_cohort(cohort=mentee.cohort, count_waiting_requests=True)
    return mentor_candidates(mentee=mentee, places_left=places, limit=limit)


def replacement_candidates(*, relationship: Relationship, limit: int = 10) -> list[MentorCandidate]:
    """For the mentee of an ended pair: the best mentors with a place, never the previous one."""
    members = list(relationship.members.select_related("enrolment__cohort__program"))
    mentee = next((m.enrolment for m in members if m.role == RelationshipMember.Role.MENTEE), None)
    if mentee is None:
        return []
    places = places_left_in_cohort(cohort=relationship.cohort, count_waiting_requests=False)
    for member in members:
        if member.role == RelationshipMember.Role.MENTOR:
            places.pop(member.enrolment_id, None)
    return mentor_candidates(mentee=mentee, places_left=places, limit=limit)


def swap_candidates(*, proposal: Proposal, limit: int = 20) -> list[MentorCandidate]:
    """For a pair under review: the mentors the run leaves a place, under the run's own
    settings (a swap is checked against those), best first."""
    places = places_left_in_run(run=proposal.run)
    places.pop(proposal.mentor_id, None)
    return mentor_candidates(
        mentee=proposal.mentee,
        places_left=places,
        limit=limit,
        settings=match_settings_from_parameters(proposal.run.parameters),
    )


def mentor_request_list_made_by(*, user: User) -> QuerySet[MentorRequest]:
    """The requests `user` made as a mentee, and nobody else's."""
    return MentorRequest.objects.filter(
        mentee__user=user, mentee__role=Enrolment.Role.MENTEE
    ).select_related("mentor__user")


def mentor_request_list_sent_to(*, user: User) -> QuerySet[MentorRequest]:
    """The requests sent to `user` as a mentor: not those still queued behind a mentee's
    earlier choice, which the mentor never saw."""
    return MentorRequest.objects.filter(
        mentor__user=user, mentor__role=Enrolment.Role.MENTOR, sent_at__isnull=False
    ).select_related("mentee__user", "cohort__program")


@dataclass(frozen=True)
class OpenRequest:
    request: MentorRequest
    develop: list[str]  # what the mentee wants to develop
    days_left: int


@dataclass(frozen=True)
class Inbox:
    open: list[OpenRequest]
    answered: list[MentorRequest]


def mentor_request_inbox_for(*, user: User) -> Inbox:
    """Requests waiting for the mentor's answer, soonest due first, and the latest answered
    ones. Three queries whatever the number of requests."""
    now = timezone.now()
    waiting = (
        mentor_request_list_sent_to(user=user)
        .filter(status__in=WAITING_STATUSES)
        .prefetch_related(
            Prefetch(
                "mentee__competency_links",
                queryset=EnrolmentCompetency.objects.filter(
                    kind=EnrolmentCompetency.Kind.DEVELOP
                ).select_related("competency"),
                to_attr="develop_links",
            )
        )
        .order_by("respond_by", "pk")
    )
    return Inbox(
        open=[
            OpenRequest(
                request=r,
                develop=sorted(
                    (link.competency.name for link in r.mentee.develop_links), key=str.lower
                ),
                days_left=max(0, math.ceil((r.respond_by - now).total_seconds() / 86400))
                if r.respond_by
                else 0,
            )
            for r in waiting
        ],
        answered=list(
            mentor_request_list_sent_to(user=user)
            .exclude(status__in=WAITING_STATUSES)
            .order_by("-sent_at", "-pk")[:HISTORY_LIMIT]
        ),
    )
