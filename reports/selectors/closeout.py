"""The cohort close-out report: what the program's coordinators hand to the leaders who sponsor
it when a cohort ends. Outcomes against goals, survey results, what people said they gained,
and the leadership pipeline for succession planning.

What it may and may not read:
- Figures for the whole cohort only, and a survey average only where at least
  `MIN_ANSWERS_SHOWN` people answered.
- What people "said they gained" comes from the final survey's free-text answers whose question
  is addressed to the coordinator ("Seen by the coordinator only"), grouped by question and by
  the authors' role, unsigned, sorted, and only where at least `MIN_ANSWERS_SHOWN` people of
  that role answered. Answers written for the partner stay between the partners.
- The pipeline names mentees who completed their goals, with their mentor's readiness rating:
  the one answer read by name, and the final survey says so to the mentor who gives it
  (goals.models.ReadinessRating).
- Never a private note, a reflection, a pulse comment, a goal's words or a check-in's summary.

A fixed number of queries, whatever the cohort's size."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Avg, Count, Q
from django.utils import timezone

from accounts.models import Profile
from goals.models import CheckIn, Goal, Pulse, ReadinessRating, SurveyAnswer
from goals.selectors import MIN_ANSWERS_SHOWN
from matching.models import Relationship, RelationshipMember
from programs.models import Cohort, Enrolment, FeedbackQuestion

OPEN_GOAL_STATUSES = (Goal.Status.NOT_STARTED, Goal.Status.ON_TRACK, Goal.Status.AT_RISK)
# The pipeline's order: the readiest first, then those not rated.
READINESS_ORDER = {value: i for i, value in enumerate(ReadinessRating.Readiness.values)}
ROLE_PLURALS = {"mentor": "Mentors", "mentee": "Mentees", "peer": "Peers"}


@dataclass(frozen=True)
class Outcomes:
    relationships: int
    active: int
    by_outcome: list[tuple[str, int]]  # (label, count) of ended relationships
    check_ins: int
    confirmed_check_ins: int
    goals: int
    goals_done: int
    goals_dropped: int
    goals_open: int
    goal_progress: int | None  # average % of the goals not dropped
    mentees_with_goals: int
    mentees_completed: int

    @property
    def check_ins_per_relationship(self) -> float | None:
        return round(self.check_ins / self.relationships, 1) if self.relationships else None

    @property
    def goals_done_percent(self) -> int | None:
        counted = self.goals - self.goals_dropped
        return round(100 * self.goals_done / counted) if counted else None


@dataclass(frozen=True)
class SurveyResult:
    question: str
    asked_of: str
    stage: str
    answered: int
    average: float | None  # None below the threshold

    @property
    def held_back(self) -> bool:
        return self.average is None


@dataclass(frozen=True)
class Gains:
    """What people of one role wrote to one final-survey question meant for the coordinator."""

    question: str
    role: str
    answered: int
    texts: tuple[str, ...]  # empty below the threshold


@dataclass(frozen=True)
class PipelineEntry:
    mentee: str
    department: str
    job_title: str
    job_level: str
    mentors: str
    goals_done: int
    readiness: str  # a ReadinessRating.Readiness value, or "" when not rated
    readiness_label: str


@dataclass
class CloseoutReport:
    cohort: Cohort
    generated_at: dt.datetime
    participants: list[tuple[str, int]]  # (role plural, approved people)
    outcomes: Outcomes
    survey_results: list[SurveyResult]
    pulse_answered: int
    pulse_average: float | None
    gains: list[Gains]
    pipeline: list[PipelineEntry]
    readiness_counts: list[tuple[str, int]] = field(default_factory=list)
    min_answers: int = MIN_ANSWERS_SHOWN

    @property
    def is_final(self) -> bool:
        return self.cohort.status in (Cohort.Status.CLOSING, Cohort.Status.CLOSED)


def _participants(cohort: Cohort) -> list[tuple[str, int]]:
    counts = dict(
        Enrolment.objects.filter(cohort=cohort, status=Enrolment.Status.APPROVED)
        .values("role")
        .annotate(n=Count("pk"))
        .values_list("role", "n")
    )
    return [(ROLE_PLURALS[role], counts[role]) for role in ROLE_PLURALS if counts.get(role)]


def _outcomes(cohort: Cohort, goal_rows: list[tuple[int, str, str, int]]) -> Outcomes:
    relationships = Relationship.objects.filter(cohort=cohort)
    by_status_outcome = Counter(
        {
            (status, outcome): n
            for status, outcome, n in relationships.values("status", "outcome")
            .annotate(n=Count("pk"))
            .values_list("status", "outcome", "n")
        }
    )
    total = sum(by_status_outcome.values())
    active = sum(n for (status, _), n in by_status_outcome.items() if status == "active")
    ended: Counter[str] = Counter()
    for (status, outcome), n in by_status_outcome.items():
        if status == Relationship.Status.ENDED:
            ended[outcome] += n
    by_outcome = [(label, ended[value]) for value, label in Relationship.Outcome.choices]
    if ended.get(""):
        by_outcome.append(("Ended, outcome not recorded", ended[""]))
    check_ins = CheckIn.objects.filter(relationship__cohort=cohort).aggregate(
        total=Count("pk"), confirmed=Count("pk", filter=Q(confirmed_at__isnull=False))
    )
    statuses = Counter(status for _, _, status, _ in goal_rows)
    kept = [progress for _, _, status, progress in goal_rows if status != Goal.Status.DROPPED]
    by_mentee = _mentee_goal_states(goal_rows)
    return Outcomes(
        relationships=total,
        active=active,
        by_outcome=by_outcome,
        check_ins=check_ins["total"],
        confirmed_check_ins=check_ins["confirmed"],
        goals=len(goal_rows),
        goals_done=statuses[Goal.Status.DONE],
        goals_dropped=statuses[Goal.Status.DROPPED],
        goals_open=sum(statuses[s] for s in OPEN_GOAL_STATUSES),
        goal_progress=round(sum(kept) / len(kept)) if kept else None,
        mentees_with_goals=len(by_mentee),
        mentees_completed=sum(
            1 for done, still_open in by_mentee.values() if done and not still_open
        ),
    )


def _goal_rows(cohort: Cohort) -> list[tuple[int, str, str, int]]:
    """(owner member id, owner role, status, progress) of every goal in the cohort."""
    return list(
        Goal.objects.filter(relationship__cohort=cohort).values_list(
            "owner_id", "owner__role", "status", "progress"
        )
    )


def _mentee_goal_states(goal_rows: list[tuple[int, str, str, int]]) -> dict[int, tuple[int, int]]:
    """Per mentee (member id): how many of their goals are done, and how many still open."""
    states: dict[int, list[int]] = {}
    for owner_id, role, status, _ in goal_rows:
        if role != RelationshipMember.Role.MENTEE:
            continue
        state = states.setdefault(owner_id, [0, 0])  # all dropped: has goals, none done
        if status == Goal.Status.DONE:
            state[0] += 1
        elif status in OPEN_GOAL_STATUSES:
            state[1] += 1
    return {owner: (done, still_open) for owner, (done, still_open) in states.items()}


_STAGES = {"midpoint": "Midpoint survey", "final": "Final survey"}
_ASKED_OF = {
    FeedbackQuestion.AskedOf.MENTEE: "Mentees",
    FeedbackQuestion.AskedOf.MENTOR: "Mentors",
    FeedbackQuestion.AskedOf.EVERYONE: "Everyone",
}


def _survey_results(cohort: Cohort) -> list[SurveyResult]:
    rows = (
        SurveyAnswer.objects.filter(
            response__relationship__cohort=cohort,
            question__answer_kind=FeedbackQuestion.AnswerKind.SCALE,
            scale_value__isnull=False,
        )
        .values("question_id", "question__text", "question__asked_of", "response__stage")
        .annotate(answered=Count("pk"), average=Avg("scale_value"))
        .order_by("response__stage", "question__position", "question_id")
    )
    return [
        SurveyResult(
            question=row["question__text"],
            asked_of=_ASKED_OF.get(row["question__asked_of"], ""),
            stage=_STAGES.get(row["response__stage"], row["response__stage"]),
            answered=row["answered"],
            average=round(row["average"], 1) if row["answered"] >= MIN_ANSWERS_SHOWN else None,
        )
        for row in rows
    ]


def _gains(cohort: Cohort) -> list[Gains]:
    """Final-survey free text addressed to the coordinator, by question and the authors' role.
    The visibility read is the answer's own, copied from its question when it was given: a
    question changed afterwards does not widen who reads an old answer."""
    groups: dict[tuple[int, str], list[str]] = defaultdict(list)
    questions: dict[int, tuple[int, str]] = {}
    for question_id, position, text, role, answer in (
        SurveyAnswer.objects.filter(
            response__relationship__cohort=cohort,
            response__stage="final",
            visible_to=FeedbackQuestion.VisibleTo.COORDINATOR,
        )
        .exclude(text_value="")
        .values_list(
            "question_id",
            "question__position",
            "question__text",
            "response__author__role",
            "text_value",
        )
    ):
        groups[(question_id, role)].append(answer)
        questions[question_id] = (position, text)
    result = []
    for (question_id, role), texts in sorted(
        groups.items(), key=lambda item: (questions[item[0][0]], item[0][1])
    ):
        enough = len(texts) >= MIN_ANSWERS_SHOWN
        result.append(
            Gains(
                question=questions[question_id][1],
                role=ROLE_PLURALS.get(role, role),
                answered=len(texts),
                # Sorted, not in the order given: the order would tell who wrote which.
                texts=tuple(sorted(texts)) if enough else (),
            )
        )
    return result


_LEVELS = dict(Profile.JobLevel.choices)
_READINESS = dict(ReadinessRating.Readiness.choices)


def _pipeline(
    cohort: Cohort, goal_rows: list[tuple[int, str, str, int]]
) -> tuple[list[PipelineEntry], list[tuple[str, int]]]:
    """Mentees who completed their goals (at least one done, none open; dropped ones aside),
    each with their mentor's readiness rating from the final survey; and how many ratings of
    each kind the cohort's mentors gave in all."""
    completed = [
        member_id
        for member_id, (done, still_open) in _mentee_goal_states(goal_rows).items()
        if done and not still_open
    ]
    completed_set = set(completed)
    done_counts = Counter(
        owner_id
        for owner_id, _, status, _ in goal_rows
        if status == Goal.Status.DONE and owner_id in completed_set
    )
    mentees = list(
        RelationshipMember.objects.filter(pk__in=completed).values_list(
            "pk",
            "relationship_id",
            "enrolment__user__display_name",
            "enrolment__user__email",
            "enrolment__user__profile__department",
            "enrolment__user__profile__job_title",
            "enrolment__user__profile__job_level",
        )
    )
    mentors: dict[int, list[str]] = defaultdict(list)
    for relationship_id, name in (
        RelationshipMember.objects.filter(
            relationship_id__in={m[1] for m in mentees}, role=RelationshipMember.Role.MENTOR
        )
        .order_by("pk")
        .values_list("relationship_id", "enrolment__user__display_name")
    ):
        mentors[relationship_id].append(name)
    ratings: dict[int, str] = {}
    all_ratings: Counter[str] = Counter()
    for mentee_id, readiness in (
        ReadinessRating.objects.filter(response__relationship__cohort=cohort)
        .order_by("response__submitted_at", "pk")
        .values_list("mentee_id", "readiness")
    ):
        ratings[mentee_id] = readiness  # a circle's later mentor's rating wins
        all_ratings[readiness] += 1
    entries = [
        PipelineEntry(
            mentee=name or email,
            department=department or "",
            job_title=job_title or "",
            job_level=_LEVELS.get(level, "") if level else "",
            mentors=", ".join(mentors[relationship_id]),
            goals_done=done_counts[pk],
            readiness=ratings.get(pk, ""),
            readiness_label=_READINESS.get(ratings.get(pk, ""), "Not rated"),
        )
        for pk, relationship_id, name, email, department, job_title, level in mentees
    ]
    entries.sort(key=lambda e: (READINESS_ORDER.get(e.readiness, len(READINESS_ORDER)), e.mentee))
    counts = [
        (label, all_ratings[value])
        for value, label in ReadinessRating.Readiness.choices
        if all_ratings[value]
    ]
    return entries, counts


def closeout_report_for(*, cohort: Cohort) -> CloseoutReport:
    """Everything the close-out report shows, for a cohort its reader may see (the view checks
    that through programs.selectors.cohort_list_visible_to)."""
    goal_rows = _goal_rows(cohort)
    pipeline, readiness_counts = _pipeline(cohort, goal_rows)
    pulses = Pulse.objects.filter(check_in__relationship__cohort=cohort).aggregate(
        answered=Count("pk"), average=Avg("usefulness")
    )
    return CloseoutReport(
        cohort=cohort,
        generated_at=timezone.now(),
        participants=_participants(cohort),
        outcomes=_outcomes(cohort, goal_rows),
        survey_results=_survey_results(cohort),
        pulse_answered=pulses["answered"],
        pulse_average=round(pulses["average"], 1)
        if pulses["answered"] >= MIN_ANSWERS_SHOWN
        else None,
        gains=_gains(cohort),
        pipeline=pipeline,
        readiness_counts=readiness_counts,
    )
