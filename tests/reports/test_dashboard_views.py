"""The dashboards as coordinators use them: figures with their charts and data tables, filters
kept in the URL (bad values ignored with a message, impossible ones explained, never a 500),
and the drill-down from a figure to the relationships behind it."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from programs.models import Cohort
from tests.factories import CohortFactory, ProgramFactory, RelationshipFactory
from tests.reports.dashboard_world import MENTEE_DEPARTMENT, MENTOR_DEPARTMENT, grow

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(cohort) -> Cohort:
    cohort.status = Cohort.Status.ACTIVE
    cohort.starts_on = timezone.localdate() - dt.timedelta(weeks=10)
    cohort.ends_on = cohort.starts_on + dt.timedelta(weeks=26)
    cohort.save()
    return cohort


@pytest.fixture
def pairs(running):
    return grow(running, pairs=6)  # pairs 2 and 5 at risk


def page_of(client, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def text_of(page: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_it_draws_each_chart_with_its_data_table(client, coordinator, running, pairs):
    client.force_login(coordinator)

    html = page_of(client, reverse("reports:cohort_dashboard", args=[running.pk]))

    for title in (
        "Enrolment funnel",
        "Health of active relationships",
        "Check-ins per relationship, month by month",
        "Goals by status",
        "Agreements",
        "Survey answers, question by question",
    ):
        assert title in html
    assert html.count('<svg class="chart__svg"') == 6
    assert html.count('role="img"') >= 6  # each chart is named and described for screen readers
    assert html.count('<details class="chart__data">') == 6
    text = text_of(html)
    assert "On track 4" in text
    assert "At risk 2" in text
    assert "Midpoint: How useful have your meetings been? 4.0 of 5 (4 people)" in text


def test_it_lists_the_pairs_at_risk_with_their_reasons_and_a_nudge(
    client, coordinator, running, pairs
):
    client.force_login(coordinator)

    html = page_of(client, reverse("reports:cohort_dashboard", args=[running.pk]))

    text = text_of(html)
    assert "At risk (2)" in text
    assert "Mentor 2 & Mentee 2" in text
    assert "Mentor 5 & Mentee 5" in text
    assert "Mentor 0 & Mentee 0" not in text  # on track
    assert "60 days since the start, with no check-in yet" in text
    assert "No goals set yet" in text
    for pair in (pairs[2], pairs[5]):
        assert reverse("reports:relationship_nudge", args=[pair.pk]) in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_it_leads_from_a_figure_to_the_relationships_behind_it(client, coordinator, running, pairs):
    client.force_login(coordinator)
    drill = reverse("reports:cohort_drilldown", args=[running.pk])
    dashboard = page_of(client, reverse("reports:cohort_dashboard", args=[running.pk]))
    assert f"{drill}?figure=at_risk" in dashboard

    at_risk = text_of(page_of(client, drill, figure="at_risk"))
    unsigned = text_of(page_of(client, drill, figure="unsigned"))
    everyone = text_of(page_of(client, drill, figure="all"))

    assert "Active relationships at risk" in at_risk
    assert "2 relationships" in at_risk
    assert "Mentee 2" in at_risk
    assert "Mentee 5" in at_risk
    assert "Mentee 0" not in at_risk
    assert "Mentee 2" in unsigned
    assert "Mentee 0" not in unsigned
    assert "6 relationships" in everyone
    # What each pair did: check-ins and when, goals done, the agreement.
    assert "1 last" in everyone
    assert "0 of 1" in everyone
    assert "Not signed by everyone" in everyone


@pytest.mark.parametrize(
    ("figure", "count"),
    [
        ("active", 6),
        ("completed", 0),
        ("ended_early", 0),
        ("signed", 4),
        ("no_check_in", 2),
        ("no_goals", 2),
        ("goals_behind", 0),
        ("on_track", 4),
        ("needs_attention", 0),
        ("goal-on_track", 4),
        ("answered-midpoint", 4),
        ("answered-final", 0),
    ],
)
def test_it_counts_the_same_relationships_as_the_figure(
    client, coordinator, running, pairs, figure, count
):
    client.force_login(coordinator)

    response = client.get(
        reverse("reports:cohort_drilldown", args=[running.pk]), {"figure": figure}
    )

    assert response.status_code == 200
    assert response.context["page"].paginator.count == count


def test_it_drills_into_the_month_pairs_met(client, coordinator, running, pairs):
    client.force_login(coordinator)
    last_week = timezone.localdate() - dt.timedelta(days=7)

    response = client.get(
        reverse("reports:cohort_drilldown", args=[running.pk]),
        {"figure": f"met-{last_week:%Y-%m}"},
    )

    assert response.context["page"].paginator.count == 4
    assert f"check-in in {last_week:%B %Y}" in response.content.decode()


def test_it_pages_the_drill_down_and_keeps_the_filters(client, coordinator, running):
    grow(running, pairs=27)
    client.force_login(coordinator)
    drill = reverse("reports:cohort_drilldown", args=[running.pk])

    first = client.get(drill, {"figure": "all", "department": MENTEE_DEPARTMENT})
    second = client.get(drill, {"figure": "all", "department": MENTEE_DEPARTMENT, "page": "2"})
    beyond = client.get(drill, {"figure": "all", "page": "999"})
    nonsense = client.get(drill, {"figure": "all", "page": "x"})

    assert len(first.context["rows"]) == 25
    assert len(second.context["rows"]) == 2
    assert f"department={MENTEE_DEPARTMENT}&amp;figure=all&amp;page=2" in first.content.decode()
    assert beyond.context["page"].number == 2
    assert nonsense.context["page"].number == 1


def test_it_keeps_the_filters_in_the_links_behind_the_figures(client, coordinator, running, pairs):
    client.force_login(coordinator)

    html = page_of(
        client,
        reverse("reports:cohort_dashboard", args=[running.pk]),
        department=MENTEE_DEPARTMENT,
        role="mentee",
    )

    drill = reverse("reports:cohort_drilldown", args=[running.pk])
    assert f"{drill}?department={MENTEE_DEPARTMENT}&amp;role=mentee&amp;figure=at_risk" in html
    assert f'<option value="{MENTEE_DEPARTMENT}" selected>' in html
    assert '<option value="mentee" selected>' in html


@pytest.mark.parametrize(
    ("params", "ignored"),
    [
        ({"department": "Astrology"}, "“Astrology” is not a department"),
        ({"level": "abc"}, "“abc” is not a job level"),
        ({"level": "99"}, "“99” is not a job level"),
        ({"role": "boss"}, "“boss” is not a role"),
        ({"cohort": "7"}, "“7” is not a cohort"),  # not offered on a cohort's own dashboard
        ({"kind": "mega"}, "“mega” is not a program kind"),
        ({"department": "x" * 5000}, "is not a department"),
    ],
)
def test_it_ignores_an_unknown_filter_with_a_message(
    client, coordinator, running, pairs, params, ignored
):
    client.force_login(coordinator)

    html = page_of(client, reverse("reports:cohort_dashboard", args=[running.pk]), **params)
    drill = page_of(client, reverse("reports:cohort_drilldown", args=[running.pk]), **params)

    assert ignored in html
    assert "so that filter is ignored" in html
    assert "People 12" in text_of(html)  # everyone, as without the filter
    assert ignored in drill


def test_it_ignores_a_cohort_of_another_program_in_the_filter(
    client, coordinator, running, pairs, other_program
):
    theirs = CohortFactory(program=other_program, name="Their secret cohort")
    client.force_login(coordinator)

    html = page_of(
        client,
        reverse("reports:program_dashboard", args=[running.program_id]),
        cohort=str(theirs.pk),
    )

    assert f"“{theirs.pk}” is not a cohort" in html
    assert "Their secret cohort" not in html


def test_it_explains_filters_that_cannot_match(client, coordinator, running, pairs):
    client.force_login(coordinator)

    html = page_of(client, reverse("reports:cohort_dashboard", args=[running.pk]), role="peer")
    drill = page_of(client, reverse("reports:cohort_drilldown", args=[running.pk]), role="peer")

    for page in (html, drill):
        assert "These filters cannot match anyone" in page
        assert "Only peer programs have peers, and the programs shown are one-to-one." in page
    assert "Enrolment funnel" not in html


def test_it_says_when_nobody_matches(client, coordinator, running, pairs):
    client.force_login(coordinator)

    html = page_of(
        client,
        reverse("reports:cohort_dashboard", args=[running.pk]),
        department=MENTOR_DEPARTMENT,
        role="mentee",
    )

    assert "Nobody matches these filters" in html
    assert f"No one enrolled as a mentee in {MENTOR_DEPARTMENT} is in Spring" in text_of(html)


def test_it_says_when_there_is_nothing_to_show_yet(client, coordinator, cohort, program):
    empty_program = ProgramFactory(name="New program", coordinators=[coordinator])
    client.force_login(coordinator)

    cohort_page = page_of(client, reverse("reports:cohort_dashboard", args=[cohort.pk]))
    program_page = page_of(client, reverse("reports:program_dashboard", args=[empty_program.pk]))

    assert "Nobody here yet" in cohort_page
    assert "No cohort yet" in program_page


def test_it_ignores_an_unknown_figure_with_a_message(client, coordinator, running, pairs):
    client.force_login(coordinator)

    for figure in ("nonsense", "met-2026-13", "answered-never", "goal-sleeping"):
        response = client.get(
            reverse("reports:cohort_drilldown", args=[running.pk]), {"figure": figure}
        )
        assert response.status_code == 200
        assert "is not a figure of this dashboard" in response.content.decode()
        assert response.context["page"].paginator.count == 6


def test_it_shows_a_programs_cohorts_side_by_side(client, coordinator, running, pairs):
    earlier = CohortFactory(
        program=running.program,
        name="Autumn",
        status=Cohort.Status.CLOSED,
        starts_on=running.starts_on - dt.timedelta(weeks=30),
        ends_on=running.starts_on - dt.timedelta(weeks=4),
    )
    RelationshipFactory(
        cohort=earlier, started_at=timezone.now() - dt.timedelta(weeks=29), ended=True
    )
    client.force_login(coordinator)

    html = page_of(client, reverse("reports:program_dashboard", args=[running.program_id]))

    text = text_of(html)
    assert "Cohorts side by side" in text
    assert "Spring 12 100% 6" in text
    assert "Autumn 2 100% 1" in text
    assert reverse("reports:cohort_dashboard", args=[earlier.pk]) in html
    assert "Check-ins per relationship, by month of each cohort" in text
    filtered = page_of(
        client,
        reverse("reports:program_dashboard", args=[running.program_id]),
        cohort=str(earlier.pk),
    )
    assert "People 2" in text_of(filtered)


def test_it_shows_the_organisation_program_by_program(
    client, program_creator, admin_user, running, pairs, other_program
):
    other = CohortFactory(program=other_program, status=Cohort.Status.ACTIVE)
    RelationshipFactory(cohort=other)
    client.force_login(admin_user)

    html = page_of(client, reverse("reports:organisation_dashboard"))
    peer_only = page_of(client, reverse("reports:organisation_dashboard"), kind="peer")

    text = text_of(html)
    assert "Leadership Mentoring 12 100% 6 6" in text
    assert "Sales Mentoring 2 100% 1 1" in text
    assert "At risk (2)" in text  # admins see the pairs
    assert "No cohort here matches these filters." in peer_only
    client.force_login(program_creator)
    creator = text_of(page_of(client, reverse("reports:organisation_dashboard")))
    assert "Leadership Mentoring 12 100% 6 6" in creator
    assert "At risk (2)" not in creator
    assert "Mentee 2" not in creator


def test_it_links_the_cohort_page_to_its_dashboard_as_the_first_tab(client, coordinator, running):
    client.force_login(coordinator)

    html = page_of(client, reverse("programs:cohort_detail", args=[running.pk]))

    tabs = html[html.index('aria-label="Cohort pages"') :]
    first = re.search(r'<a href="([^"]+)"', tabs)
    assert first is not None
    assert first.group(1) == reverse("reports:cohort_dashboard", args=[running.pk])
    program = page_of(client, reverse("programs:program_detail", args=[running.program_id]))
    assert reverse("reports:program_dashboard", args=[running.program_id]) in program
