"""Reads for the reminder sweep: the facts `notifications.rules` judges, as plain data.

Relationships are read in batches, each batch in a fixed number of queries however many
relationships, members, check-ins or goals it holds (no query per row); mentor requests and
invitations likewise. The sweep (goals.reminder_sweep) judges and records each batch before the
next is read, so memory stays flat with the size of the organisation.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db.models import F, Max, Min, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from matching.models import MentorRequest, Relationship, RelationshipMember
from notifications.rules import (
    RATE_WINDOW_DAYS,
    CheckInFacts,
    InvitationFacts,
    Member,
    Person,
    RelationshipFacts,
    RequestFacts,
    Snapshot,
    Thresholds,
)
from notifications.rules import GoalFacts as GoalReminderFacts
from programs.models import Cohort, Invitation, Program

from .health import GoalFacts, HealthFacts, health_assess
from .models import Agreement, AgreementSignature, CheckIn, Goal, Pulse, SurveyResponse
from .selectors import of_relationships, recent_usefulness_of, survey_scale_average_of
from .services import survey_stage_open

BATCH_SIZE = 1000
# Ended relationships are read for their final survey for this long after they end.
ENDED_SURVEY_DAYS = 30
SWEPT_COHORT_STATUSES = (Cohort.Status.ACTIVE, Cohort.Status.CLOSING)


@dataclass
class ReminderBatch:
    """One batch of facts, with the people and thresholds the sweep needs to record them."""

    snapshot: Snapshot
    thresholds: dict[int, Thresholds]
    users: dict[int, User] = field(default_factory=dict)


def thresholds_for(program: Program) -> Thresholds:
    return Thresholds(
        check_in_grace_days=program.reminder_check_in_grace_days,
        confirm_after_days=program.reminder_confirm_after_days,
        agreement_unsigned_days=program.reminder_agreement_unsigned_days,
        goal_due_soon_days=program.reminder_goal_due_soon_days,
        survey_unanswered_days=program.reminder_survey_unanswered_days,
        request_unanswered_days=program.reminder_request_unanswered_days,
        invitation_unaccepted_days=program.reminder_invitation_unaccepted_days,
        survey_response_percent=program.reminder_survey_response_percent,
    )


def _person(user: User) -> Person:
    return Person(id=user.pk, name=user.display_name or user.email, time_zone=user.time_zone)


def survey_opened_on(relationship: Relationship, today: dt.date) -> dict[str, dt.date]:
    """The survey stages open today (as goals.services.survey_stage_open decides) and the day
    each opened."""
    cohort = relationship.cohort
    opened: dict[str, dt.date] = {}
    if survey_stage_open(
        relationship=relationship, stage=SurveyResponse.Stage.MIDPOINT, today=today
    ):
        opened[SurveyResponse.Stage.MIDPOINT] = (
            cohort.starts_on + (cohort.ends_on - cohort.starts_on) / 2
        )
    if survey_stage_open(relationship=relationship, stage=SurveyResponse.Stage.FINAL, today=today):
        moments = [m for m in (cohort.final_feedback_opened_at, relationship.ended_at) if m]
        opened[SurveyResponse.Stage.FINAL] = (
            timezone.localdate(min(moments)) if moments else timezone.localdate(cohort.updated_at)
        )
    return opened


def relationship_scope(*, now: dt.datetime) -> QuerySet[Relationship]:
    """The relationships a sweep at `now` reads: active ones of active or closing cohorts, and
    those ended in the last ENDED_SURVEY_DAYS (for their final survey)."""
    ended_since = now - dt.timedelta(days=ENDED_SURVEY_DAYS)
    return Relationship.objects.filter(
        Q(status=Relationship.Status.ACTIVE, cohort__status__in=SWEPT_COHORT_STATUSES)
        | Q(status=Relationship.Status.ENDED, ended_at__gte=ended_since)
    ).exclude(cohort__status=Cohort.Status.DRAFT)


def relationship_batches(
    *,
    now: dt.datetime,
    first: int = 0,
    last: int | None = None,
    batch_size: int = BATCH_SIZE,
) -> Iterator[ReminderBatch]:
    """The relationships of relationship_scope with a pk from `first` to `last` (default: all),
    `batch_size` at a time, in pk order.

    Rows are read narrow (only the columns the rules judge): at a hundred thousand relationships
    building whole rows of relationships, enrolments and people was most of the sweep's time.
    Cohorts, programs and coordinators are few and read once per sweep."""
    today = timezone.localdate(now)
    scope = relationship_scope(now=now)
    if last is not None:
        scope = scope.filter(pk__lte=last)
    programs = _ProgramFacts()
    after = first - 1
    while True:
        relationships = list(
            scope.filter(pk__gt=after)
            .only("pk", "status", "started_at", "ended_at", "cohort_id")
            .order_by("pk")[:batch_size]
        )
        if not relationships:
            return
        after = relationships[-1].pk
        programs.read(cohort_ids={r.cohort_id for r in relationships})
        for relationship in relationships:
            relationship.cohort = programs.cohorts[relationship.cohort_id]
        yield _relationship_batch(relationships, programs=programs, now=now, today=today)


class _ProgramFacts:
    """The cohorts, programs, thresholds and coordinators a sweep meets, read the first time a
    batch needs them."""

    def __init__(self) -> None:
        self.cohorts: dict[int, Cohort] = {}
        self.thresholds: dict[int, Thresholds] = {}
        self.coordinator_ids: dict[int, list[int]] = defaultdict(list)
        self.coordinators: dict[int, User] = {}

    def read(self, *, cohort_ids: set[int]) -> None:
        missing = cohort_ids - self.cohorts.keys()
        if not missing:
            return
        new_programs: set[int] = set()
        for cohort in Cohort.objects.filter(pk__in=missing).select_related("program"):
            self.cohorts[cohort.pk] = cohort
            if cohort.program_id not in self.thresholds:
                self.thresholds[cohort.program_id] = thresholds_for(cohort.program)
                new_programs.add(cohort.program_id)
        for link in (
            Program.coordinators.through.objects.filter(program_id__in=new_programs)
            .select_related("user")
            .only(*(f"user__{name}" for name in PERSON_FIELDS), "program_id", "user_id")
            .order_by("user_id")
        ):
            self.coordinator_ids[link.program_id].append(link.user_id)
            self.coordinators[link.user_id] = link.user


# What the sweep reads of a person: enough for the rules, the key and the email's greeting.
PERSON_FIELDS = ("id", "email", "display_name", "time_zone")


class PeopleRows(dict[int, User]):
    """A batch's people, read as narrow rows, each made a User the first time the sweep needs
    one (to remind them): a batch meets a few thousand people and a model instance each cost
    more than the rules. Coordinators, read once per sweep, are stored whole."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[int, tuple[str, str, str]] = {}

    def add(self, pk: int, email: str, display_name: str, time_zone: str) -> None:
        self.rows[pk] = (email, display_name, time_zone)

    def __missing__(self, pk: int) -> User:
        email, display_name, time_zone = self.rows[pk]
        # As read with only() these columns: the rest deferred, not filled with defaults.
        user = self[pk] = User.from_db(
            User.objects.db, PERSON_FIELDS, (pk, email, display_name, time_zone)
        )
        return user

    def people(self) -> dict[int, Person]:
        people = {
            pk: Person(id=pk, name=name or email, time_zone=zone)
            for pk, (email, name, zone) in self.rows.items()
        }
        people.update((pk, _person(user)) for pk, user in self.items())
        return people


def _relationship_batch(
    relationships: list[Relationship],
    *,
    programs: _ProgramFacts,
    now: dt.datetime,
    today: dt.date,
) -> ReminderBatch:
    ids = [r.pk for r in relationships]
    program_ids = {r.cohort.program_id for r in relationships}

    members: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    users = PeopleRows()
    for member_id, relationship_id, role, *person in RelationshipMember.objects.filter(
        of_relationships(ids)
    ).values_list(
        "pk", "relationship_id", "role", *(f"enrolment__user__{name}" for name in PERSON_FIELDS)
    ):
        members[relationship_id].append((member_id, role, person[0]))
        users.add(*person)
    for program_id in program_ids:
        for user_id in programs.coordinator_ids[program_id]:
            users[user_id] = programs.coordinators[user_id]

    agreements = {
        relationship_id: (version, cadence, weeks)
        for relationship_id, version, cadence, weeks in Agreement.objects.filter(
            of_relationships(ids)
        ).values_list("relationship_id", "version", "meeting_cadence_days", "duration_weeks")
    }
    signed = set(
        AgreementSignature.objects.filter(
            of_relationships(ids, path="agreement__relationship_id"),
            version=F("agreement__version"),
        ).values_list("member_id", flat=True)
    )
    meetings = {
        row["relationship_id"]: row
        for row in CheckIn.objects.filter(of_relationships(ids))
        .values("relationship_id")
        .annotate(
            last=Max("met_on"), next=Min("next_meeting_at", filter=Q(next_meeting_at__gt=now))
        )
    }
    # Meetings recent enough to confirm or rate; older ones are history, not reminders.
    since = today - dt.timedelta(days=RATE_WINDOW_DAYS + 1)
    rated_by: dict[int, set[int]] = defaultdict(set)
    for check_in_id, author_id in Pulse.objects.filter(
        of_relationships(ids, path="check_in__relationship_id"), check_in__met_on__gte=since
    ).values_list("check_in_id", "author_id"):
        rated_by[check_in_id].add(author_id)
    check_ins: dict[int, list[CheckInFacts]] = defaultdict(list)
    for pk, relationship_id, logged_by, met_on, created_at, confirmed_at in (
        CheckIn.objects.filter(of_relationships(ids), met_on__gte=since)
        .order_by("relationship_id", "met_on", "pk")
        .values_list(
            "pk", "relationship_id", "logged_by_id", "met_on", "created_at", "confirmed_at"
        )
    ):
        check_ins[relationship_id].append(
            CheckInFacts(
                id=pk,
                logged_by=logged_by,
                met_on=met_on,
                logged_at=created_at,
                confirmed=confirmed_at is not None,
                rated_by=frozenset(rated_by[pk]),
            )
        )
    # Every goal, for health; the open ones are also the rules' (due soon, overdue).
    goals: dict[int, list[GoalReminderFacts]] = defaultdict(list)
    goal_health: dict[int, list[GoalFacts]] = defaultdict(list)
    closed = {Goal.Status.DONE, Goal.Status.DROPPED}
    for pk, relationship_id, owner_id, title, status, target_date, progress in (
        Goal.objects.filter(of_relationships(ids))
        .order_by("pk")
        .values_list(
            "pk", "relationship_id", "owner_id", "title", "status", "target_date", "progress"
        )
    ):
        goal_health[relationship_id].append(
            GoalFacts(status=status, progress=progress, target_date=target_date)
        )
        if status not in closed:
            goals[relationship_id].append(
                GoalReminderFacts(
                    id=pk, owner=owner_id, title=title, status=status, target_date=target_date
                )
            )
    surveys_done: dict[int, set[str]] = defaultdict(set)
    for author_id, stage in SurveyResponse.objects.filter(of_relationships(ids)).values_list(
        "author_id", "stage"
    ):
        surveys_done[author_id].add(stage)
    pulses = recent_usefulness_of(ids)
    survey_averages = survey_scale_average_of(ids)
    # timezone.localdate(), less its lookup of the active zone for each of a thousand rows.
    local_zone = timezone.get_current_timezone()

    facts = []
    for relationship in relationships:
        program = relationship.cohort.program
        version, cadence, weeks = agreements.get(
            relationship.pk, (1, program.meeting_cadence_days, program.length_weeks)
        )
        meeting = meetings.get(relationship.pk, {})
        # Health as goals.selectors.health_for judges it, from the facts read above.
        health = health_assess(
            facts=HealthFacts(
                started_on=relationship.started_at.astimezone(local_zone).date(),
                cadence_days=cadence,
                duration_weeks=weeks,
                last_check_in_on=meeting.get("last"),
                goals=tuple(goal_health[relationship.pk]),
                recent_pulses=pulses.get(relationship.pk, ()),
                survey_scale_average=survey_averages.get(relationship.pk),
            ),
            today=today,
        )
        facts.append(
            RelationshipFacts(
                id=relationship.pk,
                program_id=program.pk,
                program_name=program.name,
                started_at=relationship.started_at,
                cadence_days=cadence,
                members=tuple(
                    Member(
                        id=member_id,
                        person_id=user_id,
                        role=role,
                        signed_agreement=member_id in signed,
                        surveys_done=frozenset(surveys_done[member_id]),
                    )
                    for member_id, role, user_id in sorted(
                        members[relationship.pk], key=lambda m: (m[1], m[0])
                    )
                ),
                coordinator_ids=tuple(programs.coordinator_ids[program.pk]),
                last_check_in_on=meeting.get("last"),
                next_meeting_at=meeting.get("next"),
                check_ins=tuple(check_ins[relationship.pk]),
                agreement_version=version,
                goals=tuple(goals[relationship.pk]),
                surveys_opened_on=survey_opened_on(relationship, today),
                health_status=health.status,
                health_reasons=health.reasons,
                active=relationship.status == Relationship.Status.ACTIVE,
            )
        )
    return ReminderBatch(
        snapshot=Snapshot(
            people=users.people(),
            relationships=tuple(facts),
        ),
        thresholds={pk: programs.thresholds[pk] for pk in program_ids},
        users=users,
    )


def request_batches(*, batch_size: int = BATCH_SIZE) -> Iterator[ReminderBatch]:
    """Mentor requests waiting for the mentor's answer, one query per batch."""
    after = 0
    while True:
        requests = list(
            MentorRequest.objects.filter(
                pk__gt=after, status=MentorRequest.Status.PENDING, sent_at__isnull=False
            )
            .select_related("cohort__program", "mentor__user", "mentee__user")
            .order_by("pk")[:batch_size]
        )
        if not requests:
            return
        after = requests[-1].pk
        users = {r.mentor.user_id: r.mentor.user for r in requests}
        yield ReminderBatch(
            snapshot=Snapshot(
                people={pk: _person(user) for pk, user in users.items()},
                requests=tuple(
                    RequestFacts(
                        id=r.pk,
                        program_id=r.cohort.program_id,
                        mentor_id=r.mentor.user_id,
                        mentee_name=r.mentee.user.display_name,
                        sent_at=r.sent_at,
                    )
                    for r in requests
                    if r.sent_at is not None
                ),
            ),
            thresholds={r.cohort.program_id: thresholds_for(r.cohort.program) for r in requests},
            users=users,
        )


def invitation_batches(
    *, now: dt.datetime, batch_size: int = BATCH_SIZE
) -> Iterator[ReminderBatch]:
    """Invitations neither accepted nor expired, to cohorts still taking people."""
    after = 0
    while True:
        invitations = list(
            Invitation.objects.filter(pk__gt=after, accepted_at__isnull=True, expires_at__gt=now)
            .exclude(cohort__status__in=[Cohort.Status.CLOSING, Cohort.Status.CLOSED])
            .select_related("cohort__program")
            .order_by("pk")[:batch_size]
        )
        if not invitations:
            return
        after = invitations[-1].pk
        yield ReminderBatch(
            snapshot=Snapshot(
                people={},
                invitations=tuple(
                    InvitationFacts(
                        id=i.pk,
                        program_id=i.cohort.program_id,
                        email=i.email,
                        program_name=i.cohort.program.name,
                        cohort_name=i.cohort.name,
                        token=i.token,
                        created_at=i.created_at,
                        expires_at=i.expires_at,
                    )
                    for i in invitations
                ),
            ),
            thresholds={i.cohort.program_id: thresholds_for(i.cohort.program) for i in invitations},
        )
