"""Self-service under load, on PostgreSQL: many mentees asking for one mentor's last place at
once, and mentors accepting at once, keep every mentor within their places, never leave a
request waiting on a mentor who is full, and never fail with a deadlock (see the lock order in
matching.services.places). Skipped without PostgreSQL on a laptop, failed under CI."""

from __future__ import annotations

import time
import uuid
from functools import partial
from typing import Any

import pytest
from django.core.exceptions import ValidationError

import matching.services.requests as requests_module
from accounts.services import AlreadySubmittedError
from matching import services
from matching.models import MentorRequest, Proposal, Relationship, RelationshipMember
from programs.models import Cohort, Enrolment
from tests.concurrency import require_postgresql, run_at_once
from tests.factories import (
    EnrolmentFactory,
    MatchRunFactory,
    MentorRequestFactory,
    ProfileFactory,
    ProposalFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

Status = MentorRequest.Status


@pytest.fixture
def cohort(program, cohort) -> Cohort:
    require_postgresql()
    program.mentees_may_request = True
    program.save(update_fields=["mentees_may_request"])
    cohort.status = Cohort.Status.MATCHING
    cohort.save(update_fields=["status"])
    return cohort


def person(cohort: Cohort, role: str, name: str, capacity: int | None = None) -> Enrolment:
    user = UserFactory(display_name=name)
    ProfileFactory(user=user, job_level=5 if role == "mentor" else 2, languages=["English"])
    return EnrolmentFactory(cohort=cohort, user=user, role=role, capacity=capacity)


def mentees(cohort: Cohort, count: int, prefix: str = "Mentee") -> list[Enrolment]:
    return [person(cohort, "mentee", f"{prefix} {n}") for n in range(count)]


def led_by(mentor: Enrolment) -> int:
    return RelationshipMember.objects.filter(
        enrolment=mentor,
        role=RelationshipMember.Role.MENTOR,
        relationship__status=Relationship.Status.ACTIVE,
    ).count()


def assert_only_refusals(outcomes: list[object]) -> list[ValidationError]:
    """Every call either worked or was refused with a message: no deadlock, no IntegrityError."""
    unexpected = [
        o for o in outcomes if isinstance(o, BaseException) and not isinstance(o, ValidationError)
    ]
    assert not unexpected, unexpected
    return [o for o in outcomes if isinstance(o, ValidationError)]


def test_twenty_mentees_asking_for_a_last_place_at_once_leave_one_request_waiting(cohort):
    maya = person(cohort, "mentor", "Maya Mentor", capacity=2)
    # One of Maya's two places is taken: one is left.
    services.relationship_create(
        cohort=cohort, mentor=maya, mentee=person(cohort, "mentee", "Earlier Mentee")
    )
    askers = mentees(cohort, 20)

    outcomes = run_at_once(
        [partial(services.mentor_request_create, mentee=m, mentors=[maya]) for m in askers]
    )

    assert assert_only_refusals(outcomes) == []
    statuses = list(MentorRequest.objects.filter(mentor=maya).values_list("status", flat=True))
    assert sorted(statuses) == [Status.PENDING] + [Status.WITHDRAWN] * 19
    assert set(
        MentorRequest.objects.filter(status=Status.WITHDRAWN).values_list(
            "decline_reason", flat=True
        )
    ) == {"The mentor had no place left."}


def test_acceptances_at_once_fill_a_mentor_exactly_and_release_the_others(cohort):
    """Three requests wait on Maya, whose coordinator then cut her to one place; she accepts
    all three at once (three tabs). One pair starts; the other two are told she is full, and
    those mentees' next choice (Theo) is asked."""
    maya = person(cohort, "mentor", "Maya Mentor", capacity=1)
    theo = person(cohort, "mentor", "Theo Mentor", capacity=5)
    waiting = []
    for mentee in mentees(cohort, 3):
        waiting.append(MentorRequestFactory(cohort=cohort, mentee=mentee, mentor=maya, rank=1))
        MentorRequestFactory(
            cohort=cohort, mentee=mentee, mentor=theo, rank=2, status=Status.QUEUED
        )

    outcomes = run_at_once(
        [partial(services.mentor_request_accept, request=r, by_user=maya.user) for r in waiting]
    )

    refused = assert_only_refusals(outcomes)
    assert len(refused) == 2
    assert {message for error in refused for message in error.messages} <= {
        services.REQUEST_NOT_OPEN,
        services.MENTOR_FULL.format(mentor=maya.user),
    }
    assert led_by(maya) == 1
    assert MentorRequest.objects.filter(mentor=maya, status=Status.PENDING).count() == 0
    assert MentorRequest.objects.filter(mentor=theo, status=Status.PENDING).count() == 2


@pytest.mark.parametrize("round_", range(3))
def test_crossed_acceptances_never_deadlock(cohort, round_):
    """The issue's "deadlock detected": mentees waiting on Ana would go on to Ben, and those
    waiting on Ben would go on to Ana; both accept everyone at once. Every acceptance either
    works or is refused with a message, and nobody is over capacity or left waiting on a full
    mentor."""
    ana = person(cohort, "mentor", "Ana Mentor", capacity=1)
    ben = person(cohort, "mentor", "Ben Mentor", capacity=1)
    calls = []
    for first, then, prefix in ((ana, ben, "Ana's"), (ben, ana, "Ben's")):
        for mentee in mentees(cohort, 4, prefix):
            request = MentorRequestFactory(cohort=cohort, mentee=mentee, mentor=first, rank=1)
            MentorRequestFactory(
                cohort=cohort, mentee=mentee, mentor=then, rank=2, status=Status.QUEUED
            )
            calls.append(
                partial(services.mentor_request_accept, request=request, by_user=first.user)
            )

    refused = assert_only_refusals(run_at_once(calls))

    assert len(refused) == 6
    assert (led_by(ana), led_by(ben)) == (1, 1)
    assert not MentorRequest.objects.filter(status__in=[Status.PENDING, Status.QUESTION]).exists()
    assert not MentorRequest.objects.filter(status=Status.QUEUED).exists()


def test_acceptances_at_once_within_capacity_all_start(cohort):
    maya = person(cohort, "mentor", "Maya Mentor", capacity=3)
    waiting = [
        MentorRequestFactory(cohort=cohort, mentee=m, mentor=maya) for m in mentees(cohort, 3)
    ]

    outcomes = run_at_once(
        [partial(services.mentor_request_accept, request=r, by_user=maya.user) for r in waiting]
    )

    assert assert_only_refusals(outcomes) == []
    assert led_by(maya) == 3


def test_the_same_choice_sent_twice_at_once_makes_one_set_of_requests(cohort):
    """A double click on "Send my request": the second waits for the first and is handed its
    requests."""
    maya = person(cohort, "mentor", "Maya Mentor", capacity=2)
    [mo] = mentees(cohort, 1)
    token = uuid.uuid4()

    outcomes = run_at_once(
        [partial(services.mentor_request_create, mentee=mo, mentors=[maya], submission_token=token)]
        * 2
    )

    assert sum(isinstance(o, AlreadySubmittedError) for o in outcomes) == 1
    assert sum(isinstance(o, list) for o in outcomes) == 1
    assert list(MentorRequest.objects.values_list("mentee", "status")) == [(mo.pk, Status.PENDING)]


def test_a_publish_batch_waits_for_an_acceptance_of_the_same_mentor(
    cohort, coordinator, monkeypatch
):
    """A run proposes Maya (one place) for Ana while Maya accepts Ben's request. The acceptance
    is held open for a moment after it took Maya's place; the coordinator presses Publish just
    after, and the batch must wait for the acceptance, then leave Ana unpublished rather than
    give Maya a second mentee."""
    maya = person(cohort, "mentor", "Maya Mentor", capacity=1)
    ana = person(cohort, "mentee", "Ana Mentee")
    ben = person(cohort, "mentee", "Ben Mentee")
    run = MatchRunFactory(cohort=cohort, parameters={"mode": "one_to_one"})
    ProposalFactory(run=run, mentor=maya, mentee=ana, decision=Proposal.Decision.ACCEPTED)
    request = MentorRequestFactory(cohort=cohort, mentee=ben, mentor=maya, rank=1)

    accept_inside = requests_module._mentor_request_accept

    def accept_slowly(*args: Any) -> Any:
        outcome = accept_inside(*args)
        time.sleep(1)  # Maya's place is taken, not yet committed
        return outcome

    def publish_a_moment_later() -> Any:
        time.sleep(0.3)
        job = services.match_run_publish(run=run, published_by=coordinator)
        return services.match_run_publish_execute(job_id=job.pk)

    monkeypatch.setattr(requests_module, "_mentor_request_accept", accept_slowly)
    outcomes = run_at_once(
        [
            partial(services.mentor_request_accept, request=request, by_user=maya.user),
            publish_a_moment_later,
        ]
    )

    assert assert_only_refusals(outcomes) == [], outcomes
    assert led_by(maya) == 1
    assert not Relationship.objects.filter(members__enrolment=ana).exists()
