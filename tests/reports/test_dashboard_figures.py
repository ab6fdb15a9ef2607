"""The dashboards' figures: what each counts, that survey averages wait for three answers, and
that computed figures are kept for a minute and computed once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from goals import health
from goals.models import Goal
from programs.models import Cohort, Enrolment
from reports.selectors import dashboard as selectors
from reports.selectors.dashboard import Filters
from tests.factories import (
    CheckInFactory,
    CohortFactory,
    EnrolmentFactory,
    InvitationFactory,
    RelationshipFactory,
    SurveyAnswerFactory,
    SurveyResponseFactory,
)
from tests.reports.dashboard_world import MENTEE_DEPARTMENT, grow, question_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(cohort) -> Cohort:
    """`cohort`, active since ten weeks ago."""
    cohort.status = Cohort.Status.ACTIVE
    cohort.starts_on = timezone.localdate() - dt.timedelta(weeks=10)
    cohort.ends_on = cohort.starts_on + dt.timedelta(weeks=26)
    cohort.save()
    return cohort


def figures_of(cohort: Cohort, filters: Filters | None = None) -> selectors.Figures:
    return selectors.dashboard_figures(
        scope=selectors.scope_for_cohort(cohort=cohort), filters=filters or Filters()
    )


def test_it_counts_people_through_the_funnel(running):
    grow(running, pairs=3)  # 6 people, all matched and active
    EnrolmentFactory(cohort=running, status=Enrolment.Status.INVITED)  # imported, not yet in
    EnrolmentFactory(cohort=running, status=Enrolment.Status.APPLIED)
    EnrolmentFactory(cohort=running, status=Enrolment.Status.WAITLISTED)
    InvitationFactory(cohort=running, email="new.person@example.org")  # not accepted yet
    ended = RelationshipFactory(cohort=running, ended=True)  # ended early: matched, not done
    ended.outcome = "achieved"
    ended.save()

    total = figures_of(running).total

    assert {s.key: s.count for s in total.funnel} == {
        "invited": 6 + 3 + 1 + 2,
        "applied": 6 + 2 + 2,  # everyone but the imported one and the invitation
        "approved": 6 + 2,
        "matched": 8,
        "active": 6,
        "completed": 2,
    }
    assert total.people == 11
    assert total.share_matched == 1.0  # every approved person is matched
    assert (total.relationships, total.active, total.completed, total.ended_early) == (4, 3, 1, 0)


def test_it_counts_agreements_signed_by_everyone_in_their_current_version(running):
    signed, half, _ = grow(running, pairs=3)  # the third pair is at risk: mentee signed only
    agreement = signed.agreement
    agreement.version = 2  # changed since: both must sign again
    agreement.save()

    total = figures_of(running).total

    assert total.signed == 1  # the second pair only
    assert total.share_signed == pytest.approx(1 / 3)
    assert half.agreement.signatures.count() == 2


def test_it_judges_health_as_the_relationship_page_does(running):
    pairs = grow(running, pairs=6)  # pairs 2 and 5 are at risk

    figures = figures_of(running)

    assert figures.total.health == {
        health.ON_TRACK: 4,
        health.NEEDS_ATTENTION: 0,
        health.AT_RISK: 2,
    }
    assert figures.at_risk_total == 2
    assert {row.relationship_id for row in figures.at_risk} == {pairs[2].pk, pairs[5].pk}
    row = figures.at_risk[0]
    assert row.names.startswith("Mentor ")
    assert " & Mentee " in row.names
    assert "no goals set yet" in row.reasons
    assert set(figures.health_ids[health.AT_RISK]) == {pairs[2].pk, pairs[5].pk}


def test_it_counts_goals_and_their_progress(running):
    pairs = grow(running, pairs=2)  # one goal each at 40%, on track
    Goal.objects.create(
        relationship=pairs[0],
        owner=pairs[0].members.get(role="mentee"),
        title="Done already",
        measure="-",
        target_date=timezone.localdate(),
        status=Goal.Status.DONE,
        progress=100,
    )

    goals = figures_of(running).total.goals

    assert (goals.total, goals.done, goals.on_track, goals.open) == (3, 1, 2, 2)
    assert goals.average_progress == 40  # of open goals only


def test_it_shows_check_ins_per_relationship_against_the_agreed_cadence(running):
    grow(running, pairs=3)  # two pairs met last week; the third never did

    months = figures_of(running).months
    last_week = (timezone.localdate() - dt.timedelta(days=7)).replace(day=1)
    month = next(m for m in months if m.month == last_week)

    assert month.running == 3
    assert month.check_ins == 2
    assert month.per_relationship == round(2 / 3, 2)
    # Every agreement says every 14 days: about 2.17 a month (less so far this month).
    full = next((m for m in months if not m.partial and m.running), None)
    if full is not None:
        assert full.expected == 2.17


def test_it_releases_survey_averages_only_from_three_answers(running):
    grow(running, pairs=2)  # two mentees answered: not enough

    two = figures_of(running)
    grow(running, pairs=1, start=10)  # a third
    three = figures_of(running)

    asked = next(q for q in two.questions if q.text.startswith("How useful"))
    assert (asked.released.answered, asked.released.average) == (2, None)
    assert two.total.feedback.average is None  # four answers, but from two people
    asked = next(q for q in three.questions if q.text.startswith("How useful"))
    assert (asked.released.answered, asked.released.average) == (3, 4.0)
    assert three.total.recommend.average == 5.0
    assert three.total.recommend.high_share == 1.0


def test_it_releases_nothing_from_one_pair_however_many_questions(running):
    # The overall average counts answers, and each question needs three answers of its own.
    pair = RelationshipFactory(cohort=running)
    response = SurveyResponseFactory(relationship=pair)
    for n in range(4):
        SurveyAnswerFactory(response=response, question=question_for(running, f"Q{n}?"))

    figures = figures_of(running)

    assert all(q.released.average is None for q in figures.questions)


def test_it_filters_people_and_relationships_by_department_and_role(running):
    grow(running, pairs=3)
    EnrolmentFactory(cohort=running, role="mentor", status=Enrolment.Status.APPLIED)

    mentees = figures_of(running, Filters(department=MENTEE_DEPARTMENT)).total
    mentors = figures_of(running, Filters(role="mentor")).total

    assert mentees.people == 3  # the mentees are in Sales, their mentors in Engineering
    assert mentees.relationships == 3  # each pair has someone in Sales
    assert mentors.people == 4
    assert {s.key: s.count for s in mentors.funnel}["approved"] == 3


def test_it_keeps_the_figures_for_a_minute(settings, running):
    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    grow(running, pairs=2)
    first = figures_of(running)

    CheckInFactory(relationship=RelationshipFactory(cohort=running))
    with CaptureQueriesContext(connection) as queries:
        again = figures_of(running)

    assert len(queries) == 0
    assert again.total.relationships == first.total.relationships == 2


def test_it_serves_stale_figures_while_another_request_refreshes_them(settings, running):
    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    grow(running, pairs=1)
    scope = selectors.scope_for_cohort(cohort=running)
    figures_of(running)
    key = f"reports:figures:v1:{scope.key}:-:{timezone.localdate().isoformat()}"
    entry = cache.get(key)
    cache.set(key, selectors._Entry(value=entry.value, fresh_until=0), 600)  # stale now
    cache.add(f"{key}:computing", True, 60)  # another request is computing them

    RelationshipFactory(cohort=running)
    with CaptureQueriesContext(connection) as queries:
        stale = figures_of(running)
    cache.delete(f"{key}:computing")
    fresh = figures_of(running)

    assert len(queries) == 0
    assert (stale.total.relationships, fresh.total.relationships) == (1, 2)


def test_it_says_which_filters_cannot_match(cohort, other_program):
    scope = selectors.scope_for_cohort(cohort=cohort)
    peers = Filters(role=Enrolment.Role.PEER)

    assert "Only peer programs have peers" in selectors.filters_problem(scope=scope, filters=peers)
    assert selectors.filters_problem(scope=scope, filters=Filters(role="mentee")) == ""

    other_program.kind = "peer"
    other_program.save()
    CohortFactory(program=other_program)
    organisation = selectors.scope_for_organisation()
    assert "Peer programs have peers, not mentors" in selectors.filters_problem(
        scope=organisation, filters=Filters(kind="peer", role="mentor")
    )
    clash = Filters(cohort=cohort.pk, kind="peer")
    assert "not a peer mentoring program" in selectors.filters_problem(
        scope=organisation, filters=clash
    )


def test_it_waits_for_the_figures_another_request_is_computing(settings, monkeypatch, running):
    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    grow(running, pairs=1)
    computed = figures_of(running)  # what the other request will have put in the cache
    scope = selectors.scope_for_cohort(cohort=running)
    key = f"reports:figures:v1:{scope.key}:-:{timezone.localdate().isoformat()}"
    cache.delete(key)
    cache.add(f"{key}:computing", True, 60)  # another request is computing them now

    def their_request_finishes(seconds: float) -> None:
        cache.set(key, selectors._Entry(value=computed, fresh_until=float("inf")), 600)

    monkeypatch.setattr(selectors.time, "sleep", their_request_finishes)
    with CaptureQueriesContext(connection) as queries:
        waited = figures_of(running)

    assert len(queries) == 0
    assert waited.total.relationships == 1


def test_it_computes_the_figures_itself_when_the_other_request_takes_too_long(
    settings, monkeypatch, running
):
    settings.DASHBOARD_CACHE_SECONDS = 60
    cache.clear()
    grow(running, pairs=2)
    scope = selectors.scope_for_cohort(cohort=running)
    key = f"reports:figures:v1:{scope.key}:-:{timezone.localdate().isoformat()}"
    cache.add(f"{key}:computing", True, 60)  # a request that died while computing
    monkeypatch.setattr(selectors, "WAIT_SECONDS", 0.0)

    figures = figures_of(running)

    assert figures.total.relationships == 2
    assert cache.get(key).value.total.relationships == 2
