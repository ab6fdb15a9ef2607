"""Rules shared by every way a pair can start (a published run, a self-service request, a
coordinator's rematch): a mentor's places, the hard rules in words, closing a mentee's
requests once they have a mentor, and the one lock order of self-service.

Lock order. A write that may take or give a mentor's place (asking, accepting, declining,
expiring, withdrawing, a rematch) first locks the enrolment rows of the people it is about,
all in one statement and in id order (`enrolments_lock`), and only then reads places and
changes requests or relationships. Two such writes about the same mentor (or mentee) wait for
each other instead of both seeing the same free place; writes about different people never
wait. Since every transaction takes all its enrolment locks at once, in the same order, no
two can each hold what the other waits for: no deadlock. Work that then concerns other people
(the next choice of a mentee whose mentor filled up) runs afterwards in a transaction of its
own, which locks only that mentee and their next mentors."""

from __future__ import annotations

from collections.abc import Iterable

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
    """A place for one more relationship: the test of an acceptance or a rematch, where the
    request being accepted already held its place."""
    return _mentor_partners(mentor) < capacity_of(mentor, cohort)


def mentor_has_place_for_request(mentor: Enrolment, cohort: Cohort) -> bool:
    """A place for one more request: a request waiting for the mentor's answer (pending or
    with a question) holds a place as an active relationship does, so a mentor is never asked
    by more mentees than they could accept (recommendations count them the same way,
    `selectors.mentor_load`). Read under the mentor's lock (`enrolments_lock`)."""
    waiting = MentorRequest.objects.filter(
        mentor=mentor, status__in=[MentorRequest.Status.PENDING, MentorRequest.Status.QUESTION]
    ).count()
    return _mentor_partners(mentor) + waiting < capacity_of(mentor, cohort)


def enrolments_lock(pks: Iterable[int]) -> None:
    """Lock these enrolments' rows until the transaction ends: one statement, in id order (see
    the module's docstring). Locking a row the transaction already holds is free."""
    wanted = sorted(set(pks))
    if wanted:
        list(
            Enrolment.objects.select_for_update()
            .filter(pk__in=wanted)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


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
