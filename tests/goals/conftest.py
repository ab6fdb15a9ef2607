"""Relationships for the goals tests, built on the personas of tests/conftest.py.

pair        Maya Mentor (`mentor`) with Mo Mentee (`mentee`), active, in `cohort`,
            started 30 days ago. Its members see it; `coordinator` may read it.
other_pair  Theo Mentor with Dana Mentee, active, in the same cohort: must never see `pair`.
ended_pair  Two more people in `cohort`, ended early: readable, nothing new can be added.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import User
from matching.models import Relationship, RelationshipMember
from programs.models import Cohort
from tests.factories import EnrolmentFactory, UserFactory


def pair_create(cohort: Cohort, mentor: User, mentee: User, *, days_ago: int = 30) -> Relationship:
    """A pair written directly, as matching would have left it `days_ago` days ago."""
    relationship = Relationship.objects.create(
        cohort=cohort, started_at=timezone.now() - dt.timedelta(days=days_ago)
    )
    for user, role in ((mentor, "mentor"), (mentee, "mentee")):
        enrolment = cohort.enrolments.filter(user=user).first() or EnrolmentFactory(
            cohort=cohort, user=user, role=role
        )
        RelationshipMember.objects.create(relationship=relationship, enrolment=enrolment, role=role)
    return relationship


@pytest.fixture
def pair(cohort, mentor, mentee) -> Relationship:
    return pair_create(cohort, mentor, mentee)


@pytest.fixture
def other_pair(cohort) -> Relationship:
    return pair_create(
        cohort,
        UserFactory(email="theo.mentor@example.org", display_name="Theo Mentor"),
        UserFactory(email="dana.mentee@example.org", display_name="Dana Mentee"),
    )


@pytest.fixture
def ended_pair(cohort) -> Relationship:
    relationship = pair_create(
        cohort,
        UserFactory(email="una.mentor@example.org", display_name="Una Mentor"),
        UserFactory(email="eli.mentee@example.org", display_name="Eli Mentee"),
    )
    relationship.status = Relationship.Status.ENDED
    relationship.outcome = Relationship.Outcome.ENDED_EARLY
    relationship.end_reason = "Eli changed jobs."
    relationship.ended_at = timezone.now()
    relationship.save()
    return relationship
