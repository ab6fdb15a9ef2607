"""Relationship health: on track, needs attention, or at risk — and why.

Pure (no ORM): selectors gather the facts, `health_assess` judges them, tests feed it plain
data. The formula, in full:

1. Cadence. `gap` = days since the last check-in (since the start when there is none);
   `c` = the agreed meeting cadence in days.
     gap <= 1.5 c  -> kept (0 points)
     gap <= 2.5 c  -> slipping (1 point)
     gap >  2.5 c  -> lapsed (2 points)
2. Goals, once the relationship is three weeks old:
     no goals at all                                   -> 1 point
     any goal "at risk", or open past its target date  -> 1 point
     elapsed share of the agreed duration minus the open goals' average progress
       (both 0..1) above 0.35, i.e. clearly behind      -> 1 point
   (at most 2 points from goals)
3. Feedback: the average usefulness of the last three pulses (or, with no pulse yet, of
   all survey scale answers so far), below 2.5 out of 5 -> 1 point

Total 0 -> on track; 1-2 -> needs attention; 3 or more -> at risk. Every point comes with
a reason in plain words, shown to the members and the coordinator.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

ON_TRACK = "on_track"
NEEDS_ATTENTION = "needs_attention"
AT_RISK = "at_risk"
LABELS = {ON_TRACK: "On track", NEEDS_ATTENTION: "Needs attention", AT_RISK: "At risk"}
GOALS_GRACE_DAYS = 21
BEHIND_MARGIN = 0.35
POOR_FEEDBACK = 2.5


@dataclass(frozen=True)
class GoalFacts:
    status: str
    progress: int  # 0..100
    target_date: dt.date


@dataclass(frozen=True)
class HealthFacts:
    started_on: dt.date
    cadence_days: int
    duration_weeks: int
    last_check_in_on: dt.date | None
    goals: tuple[GoalFacts, ...] = ()
    recent_pulses: tuple[int, ...] = ()  # newest first, 1..5
    survey_scale_average: float | None = None


@dataclass(frozen=True)
class Health:
    status: str
    points: int
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def label(self) -> str:
        return LABELS[self.status]


def health_assess(*, facts: HealthFacts, today: dt.date) -> Health:
    points = 0
    reasons: list[str] = []

    since = facts.last_check_in_on or facts.started_on
    gap = (today - since).days
    cadence = max(facts.cadence_days, 1)
    what = "the last check-in" if facts.last_check_in_on else "the start, with no check-in yet"
    if gap > 2.5 * cadence:
        points += 2
        reasons.append(f"{gap} days since {what}; you agreed to meet every {cadence} days")
    elif gap > 1.5 * cadence:
        points += 1
        reasons.append(f"{gap} days since {what}; a meeting is overdue")

    age = (today - facts.started_on).days
    if age >= GOALS_GRACE_DAYS:
        goal_points = 0
        open_goals = [g for g in facts.goals if g.status not in ("done", "dropped")]
        if not facts.goals:
            goal_points += 1
            reasons.append("no goals set yet")
        late = [g for g in open_goals if g.status == "at_risk" or g.target_date < today]
        if late:
            goal_points += 1
            reasons.append(
                f"{len(late)} goal{'s are' if len(late) != 1 else ' is'} at risk or past due"
            )
        if open_goals:
            elapsed = min(age / max(facts.duration_weeks * 7, 1), 1.0)
            progress = sum(g.progress for g in open_goals) / len(open_goals) / 100
            if elapsed - progress > BEHIND_MARGIN:
                goal_points += 1
                reasons.append(
                    f"goals are {round(progress * 100)}% done with {round(elapsed * 100)}% "
                    "of the time gone"
                )
        points += min(goal_points, 2)

    pulses = facts.recent_pulses[:3]
    feedback = sum(pulses) / len(pulses) if pulses else facts.survey_scale_average
    if feedback is not None and feedback < POOR_FEEDBACK:
        points += 1
        reasons.append(f"recent feedback averages {feedback:.1f} out of 5")

    status = ON_TRACK if points == 0 else NEEDS_ATTENTION if points <= 2 else AT_RISK
    return Health(status=status, points=points, reasons=tuple(reasons))
