"""The mentors one mentee could have, scored and explained exactly as in a matching run: for
self-service recommendations, a coordinator's replacement search and a hand swap."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db.models import Count

from accounts.models import Profile
from matching.engine import MatchSettings, Pair, scoring
from matching.engine.explain import pair_reasons
from matching.engine.matrix import scored_matrix
from matching.models import MatchRun, Proposal, Relationship, RelationshipMember
from programs.models import Cohort, Enrolment

from .engine_input import (
    cohort_people,
    match_settings_for,
    match_settings_from_parameters,
    matchable_enrolments,
    mentor_load,
)


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
