"""Life inside relationships in the Django admin: check-ins (and the rest) found by a person's
name, and a mentor's readiness rating shown with their final survey, read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import CheckInFactory, ReadinessRatingFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def found(client, model: str, query: str) -> set[int]:
    response = client.get(reverse(f"admin:goals_{model}_changelist"), {"q": query})
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_it_finds_check_ins_by_a_persons_name(client, admin_user, cohort, mentor, mentee):
    theirs = CheckInFactory(relationship=RelationshipFactory(cohort=cohort, mentee=mentee))
    other = CheckInFactory(relationship=RelationshipFactory(cohort=cohort, mentor=mentor))
    client.force_login(admin_user)

    assert found(client, "checkin", "Mo Mentee") == {theirs.pk}
    assert found(client, "checkin", "Maya") == {other.pk}
    assert found(client, "checkin", "mo.mentee@example.org") == {theirs.pk}


def test_it_shows_a_readiness_rating_with_the_mentors_final_survey(client, admin_user):
    rating = ReadinessRatingFactory(readiness="ready_soon")
    client.force_login(admin_user)

    html = client.get(
        reverse("admin:goals_surveyresponse_change", args=[rating.response_id])
    ).content.decode()

    assert "Ready within a year" in html
    assert 'name="readiness_ratings-0-readiness"' not in html  # read-only
