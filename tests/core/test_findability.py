"""Every page can be found from where people look for it: the home page's cards are links, a
cohort's page leads to its feedback and health, exports and close-out report, members find
their calendar subscription, and an administrator who coordinates nothing is shown the
organisation rather than "You do not coordinate a program yet"."""

from __future__ import annotations

import pytest
from django.urls import reverse

from programs.models import Cohort
from tests.factories import CohortFactory, EnrolmentFactory, ProgramFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


def html_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def href(name: str, *args: object) -> str:
    return f'href="{reverse(name, args=args)}"'


def test_it_makes_the_coordinators_home_cards_links(client, coordinator, cohort):
    client.force_login(coordinator)

    home = html_of(client, reverse("core:home"))

    assert href("programs:program_detail", cohort.program_id) in home
    assert href("programs:cohort_detail", cohort.pk) in home


@pytest.mark.parametrize("status", [Cohort.Status.ACTIVE, Cohort.Status.CLOSED])
def test_it_leads_from_a_running_cohort_to_its_feedback_exports_and_report(
    client, coordinator, cohort, status
):
    cohort.status = status
    cohort.save()
    client.force_login(coordinator)

    page = html_of(client, reverse("programs:cohort_detail", args=[cohort.pk]))

    assert href("goals:cohort_feedback", cohort.pk) in page
    assert href("reports:cohort_exports", cohort.pk) in page
    assert href("reports:closeout", cohort.pk) in page


def test_it_offers_exports_before_a_cohort_runs_but_no_feedback_yet(client, coordinator, cohort):
    client.force_login(coordinator)

    page = html_of(client, reverse("programs:cohort_detail", args=[cohort.pk]))

    assert href("reports:cohort_exports", cohort.pk) in page
    assert href("goals:cohort_feedback", cohort.pk) not in page


def test_it_links_the_relationships_and_feedback_pages_to_each_other(client, coordinator, cohort):
    client.force_login(coordinator)

    relationships = html_of(client, reverse("goals:relationship_list", args=[cohort.pk]))
    feedback = html_of(client, reverse("goals:cohort_feedback", args=[cohort.pk]))

    assert href("goals:cohort_feedback", cohort.pk) in relationships
    assert href("goals:relationship_list", cohort.pk) in feedback
    assert href("reports:closeout", cohort.pk) in feedback


@pytest.mark.parametrize("persona", ["mentor", "mentee"])
def test_it_shows_members_where_to_subscribe_their_calendar(
    client, request, cohort, mentor, mentee, persona
):
    pair = RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)
    client.force_login(request.getfixturevalue(persona))
    calendar = href("goals:calendar_settings")

    for url in (
        reverse("goals:my_mentoring"),
        reverse("goals:relationship_home", args=[pair.pk]),
        reverse("accounts:settings"),
    ):
        assert calendar in html_of(client, url), url


def test_it_does_not_offer_a_calendar_to_someone_with_no_relationship(client, outsider):
    client.force_login(outsider)

    assert href("goals:calendar_settings") not in html_of(client, reverse("accounts:settings"))


def test_it_shows_an_administrator_the_organisation_not_an_empty_program_list(
    client, admin_user, cohort, other_program
):
    CohortFactory(program=other_program, name="Autumn", status=Cohort.Status.ACTIVE)
    EnrolmentFactory(cohort=cohort)
    client.force_login(admin_user)

    page = html_of(client, reverse("programs:program_list"))

    assert "You do not coordinate a program yet" not in page
    assert "The organisation" in page
    for program in (cohort.program, other_program):
        assert href("admin:programs_program_change", program.pk) in page
    assert 'href="/admin/"' in page
    assert href("reports:organisation_dashboard") in page
    assert href("reports:program_dashboard", other_program.pk) in page
    assert href("programs:program_create") in page  # a superuser may create programs


def test_it_shows_the_organisation_in_a_fixed_number_of_queries(
    client, admin_user, django_assert_num_queries
):
    for i in range(3):
        ProgramFactory(name=f"Program {i}")
    client.force_login(admin_user)
    # Session, user, the (empty) page of coordinated programs with its count, the
    # organisation's four, the menu's one.
    with django_assert_num_queries(8):
        client.get(reverse("programs:program_list"))
    for i in range(3, 9):
        CohortFactory(program=ProgramFactory(name=f"Program {i}"))
    with django_assert_num_queries(8):
        client.get(reverse("programs:program_list"))


def test_it_links_an_administrator_to_the_organisation_from_home_and_the_menu(client, admin_user):
    admin_user.is_superuser = False  # staff only: no permission to create programs
    admin_user.save()
    client.force_login(admin_user)

    home = html_of(client, reverse("core:home"))

    assert home.count(href("programs:program_list")) >= 2  # the menu and the admin card
    assert href("reports:organisation_dashboard") in home


def test_it_still_tells_a_coordinator_of_nothing_who_is_not_staff(client, program_creator):
    client.force_login(program_creator)

    page = html_of(client, reverse("programs:program_list"))

    assert "You do not coordinate a program yet" in page
    assert "The organisation" not in page
