"""Relationships for the goals tests, built on the personas of tests/conftest.py.

pair        Maya Mentor (`mentor`) with Mo Mentee (`mentee`), active, in `cohort`,
            started 30 days ago. Its members see it; `coordinator` may read it.
other_pair  Theo Mentor with Dana Mentee, active, in the same cohort: must never see `pair`.
ended_pair  Two more people in `cohort`, ended early: readable, nothing new can be added.
"""

from __future__ import annotations

import pytest

from matching.models import Relationship
from tests.factories import RelationshipFactory, UserFactory


@pytest.fixture
def pair(cohort, mentor, mentee) -> Relationship:
    return RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)


@pytest.fixture
def other_pair(cohort) -> Relationship:
    return RelationshipFactory(
        cohort=cohort,
        mentor=UserFactory(email="theo.mentor@example.org", display_name="Theo Mentor"),
        mentee=UserFactory(email="dana.mentee@example.org", display_name="Dana Mentee"),
    )


@pytest.fixture
def ended_pair(cohort) -> Relationship:
    return RelationshipFactory(
        cohort=cohort,
        mentor=UserFactory(email="una.mentor@example.org", display_name="Una Mentor"),
        mentee=UserFactory(email="eli.mentee@example.org", display_name="Eli Mentee"),
        ended=True,
        end_reason="Eli changed jobs.",
    )
