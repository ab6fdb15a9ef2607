"""Rules shared by every way a pair can start (a published run, a self-service request, a
coordinator's rematch): a mentor's places, the hard rules in words, and closing a mentee's
requests once they have a mentor."""

from __future__ import annotations

from matching import selectors
from matching.engine import scoring
from matching.models import MentorRequest, Relationship, RelationshipMember
from programs.models import Cohort, Enrolment

from .messages import RULE_WORDS


def capacity_of(mentor: Enrolment, cohort: Cohort) -> int:
    if mentor.capacity is not None:
        return mentor.capacity
    return cohort.program.default_mentor_capacity


def _mentor_partners(mentor: Enrolment) -> int:
    """Active relationships the mentor leads (waiting requests are not places taken)."""
    return RelationshipMember.objects.filter(
        enrolment=mentor,
        role__in=[RelationshipMember.Role.MENTOR, RelationshipMember.Role.PEER],
        relationship__status=Relationship.Status.ACTIVE,
    ).count()


def mentor_has_place(mentor: Enrolment, cohort: Cohort) -> bool:
    return _mentor_partners(mentor) < capacity_of(mentor, cohort)


def pair_problem(mentee: Enrolment, mentor: Enrolment) -> str | None:
    """The hard rule this pair breaks, in words, or None."""
    cohort = mentee.cohort
    people, _ = selectors.cohort_people(
        cohort=cohort, enrolments=cohort.enrolments.filter(pk__in=[mentee.pk, mentor.pk])
    )
    by_id = {p.id: p for p in people}
    if mentee.pk not in by_id or mentor.pk not in by_id:
        return "both must be approved in this cohort"
    broken = scoring.pair_rule_broken(
        by_id[mentee.pk], by_id[mentor.pk], selectors.match_settings_for(cohort=cohort)
    )
    return RULE_WORDS[broken] if broken else None


def requests_close_for(mentee: Enrolment) -> int:
    """The mentee has a mentor now (by any route): their open requests are withdrawn."""
    return mentee.requests_made.filter(status__in=MentorRequest.OPEN_STATUSES).update(
        status=MentorRequest.Status.WITHDRAWN
    )
