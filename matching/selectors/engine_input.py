"""The cohort as the engine sees it: a program's settings as `MatchSettings`, and approved
people as `Person` records (with what they wrote, their reporting chain and past partners),
loaded in a fixed number of queries. Services and page reads build on these; nothing here
renders a page."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from django.db.models import Count, Prefetch, QuerySet

from accounts.models import Profile
from matching.engine import MatchSettings, Person, Rules, Weights
from matching.engine.types import Mode, Objective
from matching.models import (
    MatchExclusion,
    MatchingConfig,
    MatchRun,
    MentorRequest,
    Relationship,
    RelationshipMember,
)
from programs.models import Cohort, Enrolment, EnrolmentCompetency, Program

MODE_BY_KIND: dict[str, Mode] = {
    Program.Kind.ONE_TO_ONE: "one_to_one",
    Program.Kind.REVERSE: "reverse",
    Program.Kind.PEER: "peer",
    Program.Kind.CIRCLE: "circle",
}


OBJECTIVES: dict[str, Objective] = {"score": "score", "coverage": "coverage"}
ROLES: dict[str, Literal["mentor", "mentee", "peer"]] = {
    Enrolment.Role.MENTOR: "mentor",
    Enrolment.Role.MENTEE: "mentee",
    Enrolment.Role.PEER: "peer",
}


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
        objective=OBJECTIVES[objective],
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


def match_settings_as_parameters(settings: MatchSettings) -> dict[str, Any]:
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


def match_settings_from_parameters(parameters: Mapping[str, Any]) -> MatchSettings:
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


# --- People ---------------------------------------------------------------------------------


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
                role=ROLES[enrolment.role],
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
        if person.role == "mentor" and led.get(person.id):
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
