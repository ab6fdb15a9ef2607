"""Every dashboard and drill-down runs a fixed number of queries however many relationships it
covers: pinned as absolute numbers, at two sizes. With the figures cached (the minute after
they were computed) a dashboard reads only who is asking and what they may see."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from programs.models import Cohort
from tests.factories import CohortFactory
from tests.reports.dashboard_world import grow

pytestmark = pytest.mark.django_db

# A cohort's dashboard, computing its figures: the session, the user and the menu (3), the
# cohort (1), the departments its filter offers (1); the funnel (3), relationships (1),
# check-ins by month (1), goals (1), survey answers (2), the cohorts and their active
# relationships for health (2) and goals.selectors.health_for (5), the at-risk rows (2), the
# survey questions (1); who was nudged today (1). A program's and the organisation's read their
# cohorts too (1); the drill-down counts, reads a page of ids and then its rows (3), their
# members (1) and health (5); at risk, the dashboard's figures as well.
COMPUTED = {
    "cohort_dashboard": 24,
    "program_dashboard": 25,
    "organisation_dashboard": 25,
    "cohort_drilldown": 14,
    "cohort_drilldown_at_risk": 32,
    "program_drilldown": 15,
    "organisation_drilldown": 15,
}
CACHED = {"cohort_dashboard": 5, "program_dashboard": 6, "organisation_dashboard": 6}


@pytest.fixture
def running(cohort, other_program) -> Cohort:
    cohort.status = Cohort.Status.ACTIVE
    cohort.starts_on = timezone.localdate() - dt.timedelta(weeks=10)
    cohort.ends_on = cohort.starts_on + dt.timedelta(weeks=26)
    cohort.save()
    CohortFactory(program=cohort.program, name="Autumn")  # a second cohort, still empty
    return cohort


def _url(name: str, cohort: Cohort) -> str:
    return {
        "cohort_dashboard": reverse("reports:cohort_dashboard", args=[cohort.pk]),
        "program_dashboard": reverse("reports:program_dashboard", args=[cohort.program_id]),
        "organisation_dashboard": reverse("reports:organisation_dashboard"),
        "cohort_drilldown": reverse("reports:cohort_drilldown", args=[cohort.pk]),
        "cohort_drilldown_at_risk": reverse("reports:cohort_drilldown", args=[cohort.pk])
        + "?figure=at_risk",
        "program_drilldown": reverse("reports:program_drilldown", args=[cohort.program_id]),
        "organisation_drilldown": reverse("reports:organisation_drilldown"),
    }[name]


@pytest.mark.parametrize("name", list(COMPUTED))
def test_it_runs_a_fixed_number_of_queries_however_many_pairs(
    client, admin_user, coordinator, running, name, django_assert_num_queries
):
    client.force_login(admin_user if name.startswith("organisation") else coordinator)
    url = _url(name, running)
    grow(running, pairs=3)
    client.get(url)  # per-process caches (content types, permissions) warm

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    grow(running, pairs=30, start=3)
    with django_assert_num_queries(COMPUTED[name]):
        assert client.get(url).status_code == 200

    assert len(few) == COMPUTED[name]


@pytest.mark.parametrize("name", list(CACHED))
def test_it_reads_almost_nothing_while_the_figures_are_fresh(
    client, settings, admin_user, coordinator, running, name, django_assert_num_queries
):
    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    client.force_login(admin_user if name.startswith("organisation") else coordinator)
    url = _url(name, running)
    grow(running, pairs=30)
    client.get(url)  # computes and keeps the figures

    with django_assert_num_queries(CACHED[name]):
        assert client.get(url).status_code == 200
