"""Who may open the dashboards, their drill-down and the nudge: every view, every persona.

A cohort's and a program's dashboards (and the relationships behind them, and the nudge) are for
the program's coordinators and admins; anyone else gets the 404 every coordinator page gives.
The organisation view is for program creators and admins (others: 403, as creating a program
answers); the relationships behind its figures for admins only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reports.models import Nudge
from tests.factories import RelationshipFactory

pytestmark = pytest.mark.django_db

PERSONAS = [
    "anonymous",
    "outsider",
    "mentee",
    "mentor",
    "coordinator",
    "other_coordinator",
    "program_creator",
    "admin_user",
]
# What each persona gets: 200 (or 302 for the nudge, back to the page), 403, 404, or "login"
# (sent to sign in).
PROGRAM_PAGE = {
    "anonymous": "login",
    "outsider": 404,
    "mentee": 404,
    "mentor": 404,
    "coordinator": 200,
    "other_coordinator": 404,
    "program_creator": 404,
    "admin_user": 200,
}
ORGANISATION_PAGE = {
    **dict.fromkeys(PERSONAS, 403),
    "anonymous": "login",
    "program_creator": 200,
    "admin_user": 200,
}
ORGANISATION_DRILL = {
    **dict.fromkeys(PERSONAS, 404),
    "anonymous": "login",
    "admin_user": 200,
}
NUDGE = {**PROGRAM_PAGE, "coordinator": 302, "admin_user": 302}


@pytest.fixture
def pair(cohort, mentor, mentee, other_program):
    """Maya Mentor with Mo Mentee in `cohort`; `other_program` exists so that the other
    coordinator coordinates something."""
    return RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)


def _pages(pair) -> list[tuple[str, str, dict[str, object]]]:
    cohort, program = pair.cohort, pair.cohort.program
    return [
        ("get", reverse("reports:cohort_dashboard", args=[cohort.pk]), PROGRAM_PAGE),
        ("get", reverse("reports:program_dashboard", args=[program.pk]), PROGRAM_PAGE),
        ("get", reverse("reports:cohort_drilldown", args=[cohort.pk]), PROGRAM_PAGE),
        ("get", reverse("reports:program_drilldown", args=[program.pk]), PROGRAM_PAGE),
        ("get", reverse("reports:organisation_dashboard"), ORGANISATION_PAGE),
        ("get", reverse("reports:organisation_drilldown"), ORGANISATION_DRILL),
        ("post", reverse("reports:relationship_nudge", args=[pair.pk]), NUDGE),
    ]


@pytest.mark.parametrize("persona", PERSONAS)
def test_it_lets_only_the_right_people_in(client, sign_in, persona, pair):
    sign_in(persona)

    for method, url, expected in _pages(pair):
        response = getattr(client, method)(url)
        wanted = expected[persona]
        if wanted == "login":
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("account_login")), url
        else:
            assert response.status_code == wanted, (persona, url)
    # Only those let in reminded the pair, once (the second allowed nudge is refused).
    assert Nudge.objects.filter(relationship=pair).count() == (NUDGE[persona] == 302)


@pytest.mark.parametrize("persona", ["coordinator", "admin_user"])
def test_it_shows_the_dashboards_to_those_let_in(client, sign_in, persona, pair):
    sign_in(persona)

    page = client.get(reverse("reports:cohort_dashboard", args=[pair.cohort_id]))

    assert page.status_code == 200
    assert "Enrolment funnel" in page.content.decode()


def test_it_answers_a_cohort_of_another_program_with_a_404(client, coordinator, other_program):
    from tests.factories import CohortFactory

    theirs = CohortFactory(program=other_program)
    client.force_login(coordinator)

    assert client.get(reverse("reports:cohort_dashboard", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("reports:cohort_drilldown", args=[theirs.pk])).status_code == 404
    assert (
        client.get(reverse("reports:program_dashboard", args=[other_program.pk])).status_code == 404
    )


def test_it_refuses_a_nudge_by_get(client, coordinator, pair):
    client.force_login(coordinator)

    response = client.get(reverse("reports:relationship_nudge", args=[pair.pk]))

    assert response.status_code == 405
    assert not Nudge.objects.exists()


def test_it_refuses_a_nudge_without_the_csrf_token(coordinator, pair):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)

    response = client.post(reverse("reports:relationship_nudge", args=[pair.pk]))

    assert response.status_code == 403
    assert not Nudge.objects.exists()


def test_it_shows_a_creator_the_figures_but_not_the_people(client, program_creator, pair):
    client.force_login(program_creator)

    page = client.get(reverse("reports:organisation_dashboard")).content.decode()

    assert "Leadership Mentoring" in page  # the program's figures, by name
    assert "Maya Mentor" not in page
    assert "Mo Mentee" not in page
    assert reverse("reports:organisation_drilldown") not in page
    # Nor a link to a program dashboard the creator cannot open.
    assert reverse("reports:program_dashboard", args=[pair.cohort.program_id]) not in page


def test_it_hides_the_cohort_tabs_from_an_admin_who_does_not_coordinate(
    client, admin_user, coordinator, pair
):
    client.force_login(admin_user)
    admin_page = client.get(reverse("reports:cohort_dashboard", args=[pair.cohort_id]))
    client.force_login(coordinator)
    coordinator_page = client.get(reverse("reports:cohort_dashboard", args=[pair.cohort_id]))

    people = reverse("programs:enrolment_list", args=[pair.cohort_id])
    assert people not in admin_page.content.decode()  # a page that would answer them 404
    assert people in coordinator_page.content.decode()
