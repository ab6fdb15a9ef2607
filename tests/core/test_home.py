"""The front door: each persona sees the places that are theirs, in a fixed number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import CohortFactory, EnrolmentFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


def page_of(client, user=None) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("core:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_it_shows_an_anonymous_visitor_the_landing_page_with_ways_in(client):
    page = page_of(client)

    assert f'href="{reverse("account_login")}' in page
    assert f'href="{reverse("account_signup")}' in page
    assert "Your mentoring" not in page


def test_it_tells_an_outsider_they_are_not_in_a_program_yet(client, outsider, cohort, mentee):
    page = page_of(client, outsider)

    assert "not in a program yet" in page.lower()
    # Someone else's program stays invisible.
    assert "Leadership Mentoring" not in page
    assert "Spring" not in page


def test_it_shows_a_coordinator_their_programs_and_cohorts(client, coordinator, cohort):
    page = page_of(client, coordinator)

    assert "Programs you coordinate" in page
    assert "Leadership Mentoring" in page
    assert "Spring" in page
    assert "not in a program yet" not in page.lower()


def test_it_hides_other_programs_from_a_coordinator(client, coordinator, cohort, other_program):
    CohortFactory(program=other_program, name="Autumn Sales")

    page = page_of(client, coordinator)

    assert "Sales Mentoring" not in page
    assert "Autumn Sales" not in page


def test_it_shows_a_mentee_their_cohort_and_where_their_place_stands(client, mentee, cohort):
    page = page_of(client, mentee)

    assert "Your mentoring" in page
    assert "Spring" in page
    assert "Leadership Mentoring" in page
    assert "Approved" in page
    assert "Matching comes next" in page  # what "approved" means for them, in words
    assert "Programs you coordinate" not in page


def test_it_links_staff_to_the_admin(client, admin_user, outsider):
    assert 'href="/admin/"' in page_of(client, admin_user)
    client.logout()
    assert 'href="/admin/"' not in page_of(client, outsider)


def coordinator_with(cohorts: int, enrolments: int):
    user = UserFactory()
    program = ProgramFactory(coordinators=[user])
    made = [CohortFactory(program=program) for _ in range(cohorts)]
    for i in range(enrolments):
        EnrolmentFactory(cohort=made[i % cohorts])
    # The coordinator also takes part somewhere, so both halves of the page are filled.
    EnrolmentFactory(user=user, role="mentor", cohort=CohortFactory())
    return user


def test_it_renders_home_in_the_same_number_of_queries_however_much_a_coordinator_runs(
    client, django_assert_num_queries
):
    small = coordinator_with(cohorts=2, enrolments=5)
    large = coordinator_with(cohorts=6, enrolments=60)

    client.force_login(small)
    with CaptureQueriesContext(connection) as small_queries:
        assert client.get(reverse("core:home")).status_code == 200
    assert len(small_queries) == 9  # + the menu (one query), the to-dos

    client.force_login(large)
    with django_assert_num_queries(len(small_queries)):
        assert client.get(reverse("core:home")).status_code == 200


def test_it_tells_a_matched_mentee_they_are_matched_not_that_matching_comes_next(
    client, cohort, mentor, mentee
):
    from django.utils import timezone

    from matching.models import Relationship, RelationshipMember
    from programs.models import Enrolment

    relationship = Relationship.objects.create(cohort=cohort, started_at=timezone.now())
    for user, role in ((mentor, "mentor"), (mentee, "mentee")):
        RelationshipMember.objects.create(
            relationship=relationship, enrolment=Enrolment.objects.get(user=user), role=role
        )
    client.force_login(mentee)

    page = client.get("/").content.decode()

    assert "You are matched" in page
    assert "Matching comes next" not in page
