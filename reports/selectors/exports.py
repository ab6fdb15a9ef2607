"""The cohort's exports for its coordinators: participants, relationships (the matches, their
check-in counts and goal outcomes) and feedback in aggregate.

Rows are generated, never listed: each table reads the database through one or two queries
that stream in chunks (`QuerySet.iterator`), so an export of any size costs the same number of
queries and little memory. A table made of two streams (relationships and their members) reads
both in relationship order and joins them as it goes.

What is never here: private notes, reflections, any individual survey answer or pulse, and any
feedback figure drawn from fewer than `MIN_ANSWERS_SHOWN` answers (a pair's average would be
one or two people's answers, so feedback is only ever given for the whole cohort)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.db.models import (
    Avg,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from accounts.models import Profile
from goals.models import AgreementSignature, CheckIn, Goal, Pulse, SurveyAnswer
from goals.selectors import MIN_ANSWERS_SHOWN
from matching.models import Relationship, RelationshipMember
from programs.models import Cohort, Enrolment, FeedbackQuestion

CHUNK = 2000  # rows fetched from the database at a time
Cell = str | int | float | None
Row = list[Cell]


@dataclass(frozen=True)
class ExportTable:
    """What one export holds: its name (the file's and the sheet's), its columns, and its rows
    as a generator that reads the database only when iterated."""

    slug: str
    title: str
    description: str
    header: tuple[str, ...]
    rows: Callable[[Cohort], Iterator[Row]]


def _day(moment: dt.datetime | dt.date | None) -> str:
    if moment is None:
        return ""
    if isinstance(moment, dt.datetime):
        moment = moment.date()
    return moment.isoformat()


# --- Participants ---------------------------------------------------------------------------

_LEVELS = dict(Profile.JobLevel.choices)
_ROLES = dict(Enrolment.Role.choices)
_STATUSES = dict(Enrolment.Status.choices)


def participant_export_rows(cohort: Cohort) -> Iterator[Row]:
    """Everyone enrolled in the cohort, withdrawn people included, with how many relationships
    they are in. One streamed query."""
    enrolments = (
        Enrolment.objects.filter(cohort=cohort)
        .annotate(
            relationship_total=Count("relationship_memberships"),
            active_total=Count(
                "relationship_memberships",
                filter=Q(relationship_memberships__relationship__status="active"),
            ),
        )
        .order_by("role", "user__display_name", "pk")
        .values_list(
            "user__display_name",
            "user__email",
            "role",
            "status",
            "user__profile__department",
            "user__profile__job_title",
            "user__profile__job_level",
            "user__profile__location",
            "created_at",
            "status_changed_at",
            "relationship_total",
            "active_total",
        )
    )
    for (
        name,
        email,
        role,
        status,
        department,
        job_title,
        level,
        location,
        created_at,
        changed_at,
        relationships,
        active,
    ) in enrolments.iterator(chunk_size=CHUNK):
        yield [
            name,
            email,
            _ROLES.get(role, role),
            _STATUSES.get(status, status),
            department or "",
            job_title or "",
            _LEVELS.get(level, "") if level else "",
            location or "",
            _day(created_at),
            _day(changed_at),
            relationships,
            active,
        ]


PARTICIPANTS = ExportTable(
    slug="participants",
    title="Participants",
    description="Everyone enrolled: role, status, department, level and how many "
    "relationships they are in.",
    header=(
        "Name",
        "Email",
        "Role",
        "Status",
        "Department",
        "Job title",
        "Job level",
        "Location",
        "Enrolled on",
        "Status changed on",
        "Relationships",
        "Active relationships",
    ),
    rows=participant_export_rows,
)


# --- Relationships: matches, check-ins, goal outcomes ----------------------------------------


def _count(queryset: QuerySet, *, by: str = "relationship_id") -> Coalesce:
    """A correlated count that joins nothing to the outer query, so counts of different
    relations do not multiply each other."""
    return Coalesce(
        Subquery(
            queryset.order_by().values(by).annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )


def _relationship_stream(cohort: Cohort) -> Iterator[tuple]:
    here = OuterRef("pk")
    goals = Goal.objects.filter(relationship_id=here)
    check_ins = CheckIn.objects.filter(relationship_id=here)
    return (
        Relationship.objects.filter(cohort=cohort)
        .annotate(
            check_in_total=_count(check_ins),
            confirmed_total=_count(check_ins.filter(confirmed_at__isnull=False)),
            last_met_on=Subquery(check_ins.order_by("-met_on").values("met_on")[:1]),
            goal_total=_count(goals),
            goal_done=_count(goals.filter(status=Goal.Status.DONE)),
            goal_dropped=_count(goals.filter(status=Goal.Status.DROPPED)),
            goal_progress=Subquery(
                goals.exclude(status=Goal.Status.DROPPED)
                .order_by()
                .values("relationship_id")
                .annotate(average=Avg("progress"))
                .values("average")[:1]
            ),
            agreement_version=F("agreement__version"),
            signed_current=_count(
                AgreementSignature.objects.filter(
                    agreement__relationship_id=here, version=OuterRef("agreement__version")
                ),
                by="agreement_id",
            ),
            member_total=_count(RelationshipMember.objects.filter(relationship_id=here)),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "kind",
            "status",
            "started_at",
            "ended_at",
            "outcome",
            "score",
            "agreement_version",
            "signed_current",
            "member_total",
            "check_in_total",
            "confirmed_total",
            "last_met_on",
            "goal_total",
            "goal_done",
            "goal_dropped",
            "goal_progress",
        )
        .iterator(chunk_size=CHUNK)
    )


def _member_stream(cohort: Cohort) -> Iterator[tuple[int, str, str]]:
    return (
        RelationshipMember.objects.filter(relationship__cohort=cohort)
        .order_by("relationship_id", "-role", "pk")
        .values_list("relationship_id", "role", "enrolment__user__display_name")
        .iterator(chunk_size=CHUNK)
    )


_KINDS = dict(Relationship.Kind.choices)
_RELATIONSHIP_STATUSES = dict(Relationship.Status.choices)
_OUTCOMES = dict(Relationship.Outcome.choices)


def _agreement(version: int | None, signed: int, members: int) -> str:
    if version is None:
        return "No agreement yet"
    if members and signed >= members:
        return "Signed by everyone"
    return f"Signed by {signed} of {members}"


def relationship_export_rows(cohort: Cohort) -> Iterator[Row]:
    """One row per relationship: who, since when, how it ended, the agreement, how often they
    met and how their goals went (counts and progress, never a goal's words). Two streamed
    queries, joined in relationship order."""
    members_by_relationship = itertools.groupby(_member_stream(cohort), key=lambda m: m[0])
    pending = next(members_by_relationship, None)
    for (
        pk,
        kind,
        status,
        started_at,
        ended_at,
        outcome,
        score,
        version,
        signed,
        member_total,
        check_ins,
        confirmed,
        last_met_on,
        goals,
        done,
        dropped,
        progress,
    ) in _relationship_stream(cohort):
        names: dict[str, list[str]] = {"mentor": [], "mentee": [], "peer": []}
        # Both streams run in relationship order: skip members of relationships not listed (none
        # should be) and take this one's.
        while pending is not None and pending[0] < pk:
            pending = next(members_by_relationship, None)
        if pending is not None and pending[0] == pk:
            for _, role, name in pending[1]:
                names.setdefault(role, []).append(name)
            pending = next(members_by_relationship, None)
        yield [
            pk,
            _KINDS.get(kind, kind),
            _RELATIONSHIP_STATUSES.get(status, status),
            "; ".join(names["mentor"]),
            "; ".join(names["mentee"] + names["peer"]),
            _day(started_at),
            _day(ended_at),
            _OUTCOMES.get(outcome, "") if outcome else "",
            round(score, 3) if score is not None else "",
            _agreement(version, signed, member_total),
            check_ins,
            confirmed,
            _day(last_met_on),
            goals,
            done,
            dropped,
            round(progress) if progress is not None else "",
        ]


RELATIONSHIPS = ExportTable(
    slug="relationships",
    title="Relationships",
    description="Each match: mentors and mentees, dates, outcome, agreement, check-in counts "
    "and goal outcomes (counts and progress only).",
    header=(
        "Relationship",
        "Kind",
        "Status",
        "Mentors",
        "Mentees or peers",
        "Started on",
        "Ended on",
        "Outcome",
        "Match score",
        "Agreement",
        "Check-ins",
        "Confirmed check-ins",
        "Last check-in",
        "Goals",
        "Goals done",
        "Goals dropped",
        "Goal progress (%)",
    ),
    rows=relationship_export_rows,
)


# --- Feedback in aggregate ------------------------------------------------------------------

_STAGES = {"midpoint": "Midpoint", "final": "Final"}
_ASKED_OF = {
    FeedbackQuestion.AskedOf.MENTEE: "Mentees",
    FeedbackQuestion.AskedOf.MENTOR: "Mentors",
    FeedbackQuestion.AskedOf.EVERYONE: "Everyone",
}
HELD_BACK = f"Held back: fewer than {MIN_ANSWERS_SHOWN} answers"


def feedback_export_rows(cohort: Cohort) -> Iterator[Row]:
    """Per survey question and stage, and for the meeting pulse: how many answered and, only
    where at least three did, the average. Never a comment: a comment is one person's words.
    Two queries."""
    answers = (
        SurveyAnswer.objects.filter(response__relationship__cohort=cohort)
        .values(
            "question_id",
            "question__text",
            "question__asked_of",
            "question__answer_kind",
            "question__position",
            "response__stage",
        )
        .annotate(answered=Count("pk"), average=Avg("scale_value"))
        .order_by("question__position", "question_id", "response__stage")
    )
    for row in answers.iterator(chunk_size=CHUNK):
        scale = row["question__answer_kind"] == FeedbackQuestion.AnswerKind.SCALE
        enough = row["answered"] >= MIN_ANSWERS_SHOWN
        if not scale:
            average: Cell = "Free text: not exported"
        elif enough and row["average"] is not None:
            average = round(row["average"], 2)
        else:
            average = HELD_BACK
        yield [
            row["question__text"],
            _ASKED_OF.get(row["question__asked_of"], row["question__asked_of"]),
            _STAGES.get(row["response__stage"], row["response__stage"]),
            row["answered"],
            average,
        ]
    pulses = Pulse.objects.filter(check_in__relationship__cohort=cohort).aggregate(
        answered=Count("pk"), average=Avg("usefulness")
    )
    if pulses["answered"]:
        yield [
            "How useful was this meeting? (the pulse after each check-in)",
            "Everyone",
            "After check-ins",
            pulses["answered"],
            round(pulses["average"], 2) if pulses["answered"] >= MIN_ANSWERS_SHOWN else HELD_BACK,
        ]


FEEDBACK = ExportTable(
    slug="feedback",
    title="Feedback",
    description=f"Survey and pulse averages for the whole cohort, given only where at least "
    f"{MIN_ANSWERS_SHOWN} people answered; never a comment or one person's answer.",
    header=("Question", "Asked of", "Survey", "Answers", "Average (1 to 5)"),
    rows=feedback_export_rows,
)


EXPORT_TABLES: dict[str, ExportTable] = {
    table.slug: table for table in (PARTICIPANTS, RELATIONSHIPS, FEEDBACK)
}
