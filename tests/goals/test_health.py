"""The health formula of goals.health, branch by branch, on plain facts (no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from goals.health import AT_RISK, NEEDS_ATTENTION, ON_TRACK, GoalFacts, HealthFacts, health_assess

TODAY = dt.date(2026, 3, 10)
CADENCE = 14  # 1.5 c = 21 days, 2.5 c = 35 days


def good_goal(**fields: Any) -> GoalFacts:
    values: dict[str, Any] = {
        "status": "on_track",
        "progress": 60,
        "target_date": TODAY + dt.timedelta(days=60),
    }
    return GoalFacts(**{**values, **fields})


def facts(**fields: Any) -> HealthFacts:
    """A healthy relationship, 60 days old, met a week ago, one goal going well."""
    values: dict[str, Any] = {
        "started_on": TODAY - dt.timedelta(days=60),
        "cadence_days": CADENCE,
        "duration_weeks": 26,
        "last_check_in_on": TODAY - dt.timedelta(days=7),
        "goals": (good_goal(),),
    }
    return HealthFacts(**{**values, **fields})


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def test_it_is_on_track_with_no_reasons_when_everything_is_fine():
    health = health_assess(facts=facts(), today=TODAY)

    assert (health.status, health.points, health.reasons) == (ON_TRACK, 0, ())
    assert health.label == "On track"


@pytest.mark.parametrize("gap", [0, 21])
def test_it_keeps_the_cadence_up_to_one_and_a_half_times_it(gap):
    health = health_assess(facts=facts(last_check_in_on=days_ago(gap)), today=TODAY)

    assert health.points == 0
    assert health.reasons == ()


@pytest.mark.parametrize("gap", [22, 35])
def test_it_calls_the_cadence_slipping_above_one_and_a_half_times_it(gap):
    health = health_assess(facts=facts(last_check_in_on=days_ago(gap)), today=TODAY)

    assert health.points == 1
    assert health.status == NEEDS_ATTENTION
    assert health.reasons == (f"{gap} days since the last check-in; a meeting is overdue",)


def test_it_calls_the_cadence_lapsed_above_two_and_a_half_times_it():
    health = health_assess(facts=facts(last_check_in_on=days_ago(36)), today=TODAY)

    assert health.points == 2
    assert health.status == NEEDS_ATTENTION
    assert health.reasons == ("36 days since the last check-in; you agreed to meet every 14 days",)


def test_it_counts_from_the_start_when_there_is_no_check_in_yet():
    slipping = health_assess(
        facts=facts(started_on=days_ago(22), last_check_in_on=None), today=TODAY
    )
    lapsed = health_assess(facts=facts(started_on=days_ago(36), last_check_in_on=None), today=TODAY)
    fresh = health_assess(facts=facts(started_on=days_ago(21), last_check_in_on=None), today=TODAY)

    assert slipping.reasons == (
        "22 days since the start, with no check-in yet; a meeting is overdue",
    )
    assert lapsed.reasons[0] == (
        "36 days since the start, with no check-in yet; you agreed to meet every 14 days"
    )
    assert fresh.points == 0


def test_it_ignores_goals_in_the_first_three_weeks():
    young = health_assess(facts=facts(started_on=days_ago(20), goals=()), today=TODAY)
    three_weeks = health_assess(facts=facts(started_on=days_ago(21), goals=()), today=TODAY)

    assert young.points == 0
    assert three_weeks.points == 1
    assert three_weeks.reasons == ("no goals set yet",)


def test_it_gives_a_point_for_a_goal_at_risk():
    health = health_assess(facts=facts(goals=(good_goal(status="at_risk"),)), today=TODAY)

    assert health.points == 1
    assert health.reasons == ("1 goal is at risk or past due",)


def test_it_gives_a_point_for_open_goals_past_their_target_date_but_not_finished_ones():
    late = good_goal(target_date=days_ago(1))
    health = health_assess(
        facts=facts(goals=(late, good_goal(status="at_risk"), good_goal())), today=TODAY
    )
    finished = health_assess(
        facts=facts(
            goals=(
                good_goal(status="done", target_date=days_ago(5)),
                good_goal(status="dropped", target_date=days_ago(5)),
                good_goal(target_date=TODAY),
            )
        ),
        today=TODAY,
    )

    assert health.points == 1
    assert health.reasons == ("2 goals are at risk or past due",)
    assert finished.points == 0


def test_it_gives_a_point_when_goals_are_clearly_behind_the_time_gone():
    # 10 weeks agreed, 35 days gone: half the time. Behind means more than 0.35 short.
    def assess(progress: int):
        return health_assess(
            facts=facts(
                started_on=days_ago(35),
                duration_weeks=10,
                goals=(good_goal(progress=progress),),
            ),
            today=TODAY,
        )

    assert assess(16).points == 0
    behind = assess(14)
    assert behind.points == 1
    assert behind.reasons == ("goals are 14% done with 50% of the time gone",)


def test_it_averages_only_open_goals_when_judging_progress():
    health = health_assess(
        facts=facts(
            started_on=days_ago(35),
            duration_weeks=10,
            goals=(good_goal(progress=0, status="dropped"), good_goal(progress=40)),
        ),
        today=TODAY,
    )

    assert health.points == 0


def test_it_takes_at_most_two_points_from_goals():
    # At risk and behind at once: two goal reasons, two points; the cadence is kept.
    health = health_assess(
        facts=facts(
            started_on=days_ago(182),
            goals=(
                good_goal(status="at_risk", progress=10),
                good_goal(progress=0, target_date=days_ago(3)),
            ),
        ),
        today=TODAY,
    )

    assert health.points == 2
    assert health.status == NEEDS_ATTENTION
    assert health.reasons == (
        "2 goals are at risk or past due",
        "goals are 5% done with 100% of the time gone",
    )


def test_it_gives_a_point_for_poor_recent_pulses_counting_the_last_three_only():
    poor = health_assess(facts=facts(recent_pulses=(2, 3, 2, 5, 5)), today=TODAY)
    recovered = health_assess(facts=facts(recent_pulses=(5, 4, 4, 1, 1)), today=TODAY)
    borderline = health_assess(facts=facts(recent_pulses=(2, 3)), today=TODAY)

    assert poor.points == 1
    assert poor.reasons == ("recent feedback averages 2.3 out of 5",)
    assert recovered.points == 0
    assert borderline.points == 0  # 2.5 is not below 2.5


def test_it_uses_the_survey_average_when_there_are_no_pulses():
    poor = health_assess(facts=facts(survey_scale_average=2.0), today=TODAY)
    fine = health_assess(facts=facts(survey_scale_average=3.5), today=TODAY)

    assert poor.points == 1
    assert poor.reasons == ("recent feedback averages 2.0 out of 5",)
    assert fine.points == 0


def test_it_maps_the_total_to_a_status():
    two = health_assess(facts=facts(last_check_in_on=days_ago(40)), today=TODAY)
    three = health_assess(
        facts=facts(last_check_in_on=days_ago(40), recent_pulses=(1, 1, 1)), today=TODAY
    )
    five = health_assess(
        facts=facts(
            started_on=days_ago(182),
            last_check_in_on=days_ago(40),
            recent_pulses=(1,),
            goals=(good_goal(status="at_risk", progress=0),),
        ),
        today=TODAY,
    )

    assert (two.status, two.label) == (NEEDS_ATTENTION, "Needs attention")
    assert (three.points, three.status, three.label) == (3, AT_RISK, "At risk")
    assert (five.points, five.status) == (5, AT_RISK)
    assert len(five.reasons) == 4
