"""Relationships in the Django admin: each row names its people, its program and its health
(goals/admin.py adds the health, which the goals app judges), filters by program and by
health, searches by a person's name, and costs the same number of queries at any size."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from goals.health import AT_RISK, ON_TRACK
from tests.factories import (
    CheckInFactory,
    CohortFactory,
    GoalFactory,
    RelationshipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:matching_relationship_changelist")


def listed(client, **params) -> set[int]:
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return {r.pk for r in response.context["cl"].result_list}


@pytest.fixture
def healthy(cohort, mentor, mentee):
    """Met yesterday, a goal under way: on track."""
    pair = RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)
    CheckInFactory(relationship=pair, met_on=timezone.localdate() - dt.timedelta(days=1))
    GoalFactory(relationship=pair, progress=60)
    return pair


@pytest.fixture
def lapsed(other_program):
    """Never met in 120 days, no goals: at risk."""
    return RelationshipFactory(
        cohort=CohortFactory(program=other_program, name="Autumn", status="active"),
        mentor=UserFactory(display_name="Lena Lapsed-Mentor"),
        mentee=UserFactory(display_name="Pia Lapsed-Mentee"),
        started_at=timezone.now() - dt.timedelta(days=120),
    )


def test_it_lists_each_relationship_with_its_people_program_and_health(
    client, admin_user, healthy, lapsed
):
    client.force_login(admin_user)

    html = client.get(CHANGELIST).content.decode()

    assert "Maya Mentor (mentor), Mo Mentee (mentee)" in html
    assert "Lena Lapsed-Mentor (mentor), Pia Lapsed-Mentee (mentee)" in html
    assert "Leadership Mentoring" in html
    assert "Sales Mentoring" in html
    assert "On track" in html
    assert "At risk: 120 days since the start, with no check-in yet" in html


def test_it_filters_by_program_and_by_health(client, admin_user, healthy, lapsed, program):
    ended = RelationshipFactory(cohort=healthy.cohort, ended=True)
    client.force_login(admin_user)

    assert listed(client, cohort__program__id__exact=program.pk) == {healthy.pk, ended.pk}
    assert listed(client, health=ON_TRACK) == {healthy.pk}
    assert listed(client, health=AT_RISK) == {lapsed.pk}
    assert listed(client, health=AT_RISK, cohort__program__id__exact=program.pk) == set()
    assert listed(client, health="nonsense") == {healthy.pk, lapsed.pk, ended.pk}


def test_it_finds_a_relationship_by_a_persons_name(client, admin_user, healthy, lapsed):
    client.force_login(admin_user)

    assert listed(client, q="Pia Lapsed") == {lapsed.pk}


@pytest.mark.parametrize("health", [None, ON_TRACK])
def test_it_lists_in_a_fixed_number_of_queries(
    client, admin_user, cohort, django_assert_num_queries, health
):
    params = {"health": health} if health else {}
    client.force_login(admin_user)

    def build(count: int) -> None:
        for _ in range(count):
            pair = RelationshipFactory(cohort=cohort)
            CheckInFactory(relationship=pair, met_on=timezone.localdate())
            GoalFactory(relationship=pair, progress=60)

    # Session, user, the program filter's choices, the filtered and the unfiltered counts, the
    # page of rows, the members of the page, the page's health (five); the health filter first
    # reads every active relationship the other filters leave, and their health (six more),
    # and then (filtered) the page's rows again once.
    expected = 12 if health is None else 18
    build(2)
    with django_assert_num_queries(expected):
        client.get(CHANGELIST, params)
    build(10)
    with django_assert_num_queries(expected):
        response = client.get(CHANGELIST, params)
    assert len(response.context["cl"].result_list) == 12
