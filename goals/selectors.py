"""Reads inside mentoring relationships. Two rules hold everywhere here: a relationship is
visible to its members and to its program's coordinators only, and private notes and private
reflections are read by their author only — no selector returns anyone else's."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import (
    Avg,
    Case,
    Count,
    Exists,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    When,
    Window,
)
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from matching.models import Relationship, RelationshipMember
from programs.models import Cohort, FeedbackQuestion

from . import services
from .health import GoalFacts, Health, HealthFacts, health_assess
from .models import (
    Agreement,
    AgreementSignature,
    CheckIn,
    CheckInGoalProgress,
    Goal,
    GoalChange,
    PrivateNote,
    Pulse,
    Reflection,
    SurveyAnswer,
    SurveyResponse,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class GoalChangeCount(TypedDict):
    change_count: int  # Count("changes"): how often the goal was edited


TIMELINE_PAGE = 20
MIN_ANSWERS_SHOWN = 3  # coordinators see an aggregate only where at least this many answered

# From the seed's reflection questions and its practice of mentoring, by the reader's role in the
# relationship and the stage it has reached. A mentor is asked about guiding and learning from a
# mentee, never about "feedback from your mentor"; peers (peer programs and circles) about learning
# from each other. The first prompt of a stage is the one the relationship page suggests.
REFLECTION_PROMPTS: dict[str, dict[str, tuple[str, ...]]] = {
    RelationshipMember.Role.MENTEE: {
        Reflection.Stage.START: (
            "What specific qualities do you look for in a mentor to make this relationship work?",
            "Can you identify any blind spots in your leadership style that a mentor could help "
            "you address?",
        ),
        Reflection.Stage.MIDDLE: (
            "Reflect on a time you received critical feedback from your mentor. How did you "
            "respond, and what did you change?",
            "How do you balance advice from your mentor with staying true to your own style?",
            "In what ways is this relationship helping you navigate a challenge or transition?",
        ),
        Reflection.Stage.END: (
            "How has mentorship shaped your leadership journey?",
            "How will you use this experience to mentor others and build a culture of learning?",
            "Where will you look for support next: a peer group, another mentor, a circle?",
        ),
    },
    RelationshipMember.Role.MENTOR: {
        Reflection.Stage.START: (
            "What do you hope to pass on in this relationship, and what do you hope to learn "
            "from your mentee?",
            "How will you give your mentee room to create themselves, rather than a copy of you?",
            "What will make it safe for your mentee to bring you their challenges and concerns?",
        ),
        Reflection.Stage.MIDDLE: (
            "Reflect on a time you gave your mentee critical feedback. How was it received, and "
            "what would you do differently?",
            "When did you last listen rather than advise, and let your mentee find their own "
            "answer?",
            "What have you learned from your mentee, or about your own leadership, so far?",
        ),
        Reflection.Stage.END: (
            "How has mentoring someone shaped your own leadership?",
            "How will you use this experience to mentor others and build a culture of learning "
            "in your team?",
            "Have you considered reverse mentoring, where someone less experienced mentors you? "
            "How might it change the way you lead?",
        ),
    },
    RelationshipMember.Role.PEER: {
        Reflection.Stage.START: (
            "What experience could you offer your peers, and what would you like to learn from "
            "them?",
            "Can you identify any blind spots in your leadership style that your peers could "
            "help you address?",
        ),
        Reflection.Stage.MIDDLE: (
            "Reflect on feedback a peer gave you. How did you respond, and what did you change?",
            "Which idea or practice from a peer have you tried, and how did it go?",
            "How are you balancing offering support with asking for it?",
        ),
        Reflection.Stage.END: (
            "How has learning alongside peers shaped your leadership journey?",
            "How will you keep the network of support you built here once the program ends?",
            "How will you use this experience to mentor others and build a culture of learning?",
        ),
    },
}


def reflection_prompts_for(*, role: str, stage: str) -> tuple[str, ...]:
    """The journal's suggested questions for someone in `role` at `stage` of a relationship."""
    return REFLECTION_PROMPTS[role][stage]


# --- Who sees what --------------------------------------------------------------------------


def relationship_list_for_member(*, user: User) -> QuerySet[Relationship]:
    """The relationships `user` is in, across programs, newest first."""
    if not user.is_authenticated:
        return Relationship.objects.none()
    return (
        Relationship.objects.filter(members__enrolment__user=user)
        .select_related("cohort__program")
        .prefetch_related(
            Prefetch(
                "members",
                queryset=RelationshipMember.objects.select_related("enrolment__user").order_by(
                    "role", "pk"
                ),
            )
        )
        .order_by("status", "-started_at")
        .distinct()
    )


def membership_of(*, user: User, relationship: Relationship) -> RelationshipMember | None:
    return (
        relationship.members.filter(enrolment__user=user).select_related("enrolment__user").first()
    )


def of_relationships(ids: list[int], *, path: str = "relationship_id") -> Q:
    """Rows belonging to the relationships `ids`, for reads that look each row up by its
    relationship. A dense run of ids (a batch of the reminder sweep) is asked as a range, which
    costs Django and the database far less than a long IN list; rows of relationships in the
    range but not in `ids` may then come back, so never count rows read this way."""
    if len(ids) > DENSE_MINIMUM and max(ids) - min(ids) < 2 * len(ids):
        return Q(**{f"{path}__gte": min(ids), f"{path}__lte": max(ids)})
    return Q(**{f"{path}__in": ids})


# Below this many ids an IN list is as cheap as a range.
DENSE_MINIMUM = 20


# --- Health ---------------------------------------------------------------------------------


PREREAD_LAST_CHECK_IN = "health_last_check_in"
PREREAD_SURVEY_AVERAGE = "health_survey_average"


def health_annotations() -> dict[str, Subquery]:
    """For a page that lists relationships: two of the facts `health_for` needs, as annotations
    of the query that reads them (a subquery each), which `health_for` then uses instead of
    reading them again. Add them to every relationship passed, or to none."""
    return {
        PREREAD_LAST_CHECK_IN: Subquery(
            CheckIn.objects.filter(relationship=OuterRef("pk"))
            .order_by("-met_on")
            .values("met_on")[:1]
        ),
        PREREAD_SURVEY_AVERAGE: Subquery(
            SurveyAnswer.objects.filter(
                response__relationship=OuterRef("pk"), scale_value__isnull=False
            )
            .order_by()
            .values("response__relationship")
            .annotate(average=Avg("scale_value"))
            .values("average")
        ),
    }


def health_for(
    *, relationships: list[Relationship], today: dt.date | None = None
) -> dict[int, Health]:
    """Health of many relationships in a fixed number of queries (see goals.health)."""
    today = today or timezone.localdate()
    ids = [r.pk for r in relationships]
    agreements: dict[int, Agreement]
    if relationships and all(Relationship.agreement.is_cached(r) for r in relationships):
        # Read with the relationships (select_related("agreement")): nothing more to read.
        agreements = {}
        for relationship in relationships:
            with suppress(Agreement.DoesNotExist):
                agreements[relationship.pk] = relationship.agreement
    else:
        agreements = {
            a.relationship_id: a
            for a in Agreement.objects.filter(of_relationships(ids)).only(
                "relationship_id", "meeting_cadence_days", "duration_weeks"
            )
        }
    # Read with the relationships when the caller annotated them (health_annotations).
    preread = bool(relationships) and all(hasattr(r, PREREAD_LAST_CHECK_IN) for r in relationships)
    last_check_in: dict[int, dt.date] = {}
    if preread:
        for relationship in relationships:
            if (met_on := getattr(relationship, PREREAD_LAST_CHECK_IN)) is not None:
                last_check_in[relationship.pk] = met_on
    else:
        last_check_in = dict(
            CheckIn.objects.filter(of_relationships(ids))
            .values("relationship_id")
            .annotate(last=Max("met_on"))
            .values_list("relationship_id", "last")
        )
    goals: dict[int, list[GoalFacts]] = defaultdict(list)
    for relationship_id, status, progress, target in Goal.objects.filter(
        of_relationships(ids)
    ).values_list("relationship_id", "status", "progress", "target_date"):
        goals[relationship_id].append(
            GoalFacts(status=status, progress=progress, target_date=target)
        )
    pulses = recent_usefulness_of(ids)
    if preread:
        surveys = {
            r.pk: average
            for r in relationships
            if (average := getattr(r, PREREAD_SURVEY_AVERAGE)) is not None
        }
    else:
        surveys = survey_scale_average_of(ids)
    result = {}
    for relationship in relationships:
        program = relationship.cohort.program
        agreement = agreements.get(relationship.pk)
        facts = HealthFacts(
            started_on=timezone.localdate(relationship.started_at),
            cadence_days=agreement.meeting_cadence_days
            if agreement
            else program.meeting_cadence_days,
            duration_weeks=agreement.duration_weeks if agreement else program.length_weeks,
            last_check_in_on=last_check_in.get(relationship.pk),
            goals=tuple(goals[relationship.pk]),
            recent_pulses=pulses.get(relationship.pk, ()),
            survey_scale_average=surveys.get(relationship.pk),
        )
        result[relationship.pk] = health_assess(facts=facts, today=today)
    return result


def recent_usefulness_of(ids: list[int]) -> dict[int, tuple[int, ...]]:
    """Per relationship, the usefulness of its last three pulses, newest first (health's
    feedback facts), in one query. (A window keeping three per relationship in the database was
    slower for a page of fifty pairs with a few months' history, and no faster for the sweep.)"""
    pulses: dict[int, list[int]] = defaultdict(list)
    for relationship_id, usefulness in (
        Pulse.objects.filter(of_relationships(ids, path="check_in__relationship_id"))
        .order_by("check_in__relationship_id", "-created_at", "-pk")
        .values_list("check_in__relationship_id", "usefulness")
    ):
        pulses[relationship_id].append(usefulness)
    return {pk: tuple(values[:3]) for pk, values in pulses.items()}


def survey_scale_average_of(ids: list[int]) -> dict[int, float]:
    """Per relationship, the average of its survey scale answers (health's feedback facts when
    there is no pulse yet), in one query."""
    return dict(
        SurveyAnswer.objects.filter(
            of_relationships(ids, path="response__relationship_id"), scale_value__isnull=False
        )
        .values("response__relationship_id")
        .annotate(average=Avg("scale_value"))
        .values_list("response__relationship_id", "average")
    )


def next_meetings_for(*, relationships: list[Relationship]) -> dict[int, dt.datetime]:
    """Each relationship's soonest agreed meeting still ahead, in one query."""
    return dict(
        CheckIn.objects.filter(
            relationship__in=[r.pk for r in relationships], next_meeting_at__gt=timezone.now()
        )
        .values("relationship_id")
        .annotate(first=Min("next_meeting_at"))
        .values_list("relationship_id", "first")
    )


# --- The relationship home ------------------------------------------------------------------


@dataclass
class SignatureState:
    member: RelationshipMember
    signed_current: bool


@dataclass
class RelationshipHome:
    relationship: Relationship
    members: list[RelationshipMember]
    me: RelationshipMember | None  # None for a coordinator looking in
    agreement: Agreement
    signatures: list[SignatureState]
    goals: list[WithAnnotations[Goal, GoalChangeCount]]
    check_ins: list[CheckIn]  # newest first, one page
    check_in_total: int
    next_meeting_at: dt.datetime | None
    health: Health
    private_notes: list[PrivateNote]  # the viewer's own, only
    reflections: list[Reflection]  # the viewer's own, and others' shared ones
    my_pulses: set[int]  # the page's check-ins the viewer already gave a pulse on
    # Other members' survey answers that their question lets the partner read (members only).
    partner_feedback: list[SurveyAnswer] = field(default_factory=list)
    survey_stages_open: list[str] = field(default_factory=list)
    survey_stages_done: list[str] = field(default_factory=list)
    reflection_stage: str = Reflection.Stage.START

    @property
    def everyone_signed(self) -> bool:
        return all(s.signed_current for s in self.signatures)

    @property
    def reflection_prompts(self) -> tuple[str, ...]:
        """The viewer's prompts; a coordinator looking in (no role here) has none."""
        if self.me is None:
            return ()
        return reflection_prompts_for(role=self.me.role, stage=self.reflection_stage)


def reflection_stage_for(relationship: Relationship, today: dt.date | None = None) -> str:
    today = today or timezone.localdate()
    cohort = relationship.cohort
    if relationship.status == Relationship.Status.ENDED or cohort.status in (
        Cohort.Status.CLOSING,
        Cohort.Status.CLOSED,
    ):
        return Reflection.Stage.END
    started = timezone.localdate(relationship.started_at)
    length = max((cohort.ends_on - started).days, 1)
    return (
        Reflection.Stage.START if (today - started).days < length / 3 else Reflection.Stage.MIDDLE
    )


def relationship_home(
    *, relationship: Relationship, user: User, page: int = 1, agreement: Agreement | None = None
) -> RelationshipHome:
    """Everything the relationship page shows, in a fixed number of queries however long the
    history: the timeline is paged. `agreement` is the relationship's, when the caller has it
    (views draft it first: services.agreement_draft)."""
    if agreement is None:
        agreement = Agreement.objects.get(relationship=relationship)
    # Whether each has signed the current version comes with the members.
    signed = list(
        relationship.members.select_related("enrolment__user__profile")
        .annotate(
            signed_current=Exists(
                AgreementSignature.objects.filter(
                    member=OuterRef("pk"), agreement=agreement, version=agreement.version
                )
            )
        )
        .order_by("role", "pk")
    )
    members: list[RelationshipMember] = list(signed)
    me = next((m for m in members if m.enrolment.user_id == user.pk), None)
    # Every goal owner, check-in logger and confirmer, comment and pulse author is one of the
    # members, read above with their people: they are attached from there, not joined again
    # for each row (a page of check-ins read its two people up to five times each).
    by_id = {m.pk: m for m in members}
    goals = list(
        relationship.goals.prefetch_related("milestones")
        .annotate(change_count=Count("changes"))
        .order_by("status", "target_date", "pk")
    )
    _attach_members(goals, "owner", by_id)
    start = (max(page, 1) - 1) * TIMELINE_PAGE
    now = timezone.now()
    # Over the whole timeline, not the page: windows are computed before the page is cut.
    timeline_facts = {
        "total": Window(Count("pk")),
        "next_meeting": Window(Min(Case(When(next_meeting_at__gt=now, then="next_meeting_at")))),
        "last_met_on": Window(Max("met_on")),
    }
    check_ins = list(
        relationship.check_ins.annotate(**timeline_facts)
        .prefetch_related(
            "comments",
            Prefetch("goal_progress", queryset=CheckInGoalProgress.objects.select_related("goal")),
            Prefetch("pulses", queryset=Pulse.objects.order_by("pk")),
        )
        .order_by("-met_on", "-pk")[start : start + TIMELINE_PAGE]
    )
    if check_ins:
        timeline = {name: getattr(check_ins[0], name) for name in timeline_facts}
    elif start == 0:
        timeline = {"total": 0, "next_meeting": None, "last_met_on": None}
    else:  # a page past the end (the view answers 404): how long the timeline is
        timeline = relationship.check_ins.aggregate(
            total=Count("pk"),
            next_meeting=Min("next_meeting_at", filter=Q(next_meeting_at__gt=now)),
            last_met_on=Max("met_on"),
        )
    _attach_members(check_ins, "logged_by", by_id)
    _attach_members(check_ins, "confirmed_by", by_id)
    for check_in in check_ins:
        _attach_members(check_in.comments.all(), "author", by_id)
        _attach_members(check_in.pulses.all(), "author", by_id)
    stages_open = [
        stage
        for stage in SurveyResponse.Stage.values
        if services.survey_stage_open(relationship=relationship, stage=stage)
    ]
    # The relationship's survey answers, read once: the health judges by their average, and a
    # member reads the ones their partner shared with them.
    answers = list(
        SurveyAnswer.objects.filter(response__relationship=relationship)
        .select_related("question", "response")
        .order_by("response__stage", "question__position", "pk")
    )
    _attach_members([answer.response for answer in answers], "author", by_id)
    scale_values = [a.scale_value for a in answers if a.scale_value is not None]
    return RelationshipHome(
        relationship=relationship,
        members=members,
        me=me,
        agreement=agreement,
        signatures=[SignatureState(member=m, signed_current=m.signed_current) for m in signed],
        goals=goals,
        check_ins=check_ins,
        check_in_total=timeline["total"],
        next_meeting_at=timeline["next_meeting"],
        health=_health_of_home(
            relationship,
            agreement=agreement,
            goals=goals,
            last_met_on=timeline["last_met_on"],
            survey_average=sum(scale_values) / len(scale_values) if scale_values else None,
        ),
        private_notes=list(
            PrivateNote.objects.filter(author=user, relationship=relationship).order_by(
                "-created_at"
            )
        ),
        reflections=list(
            reflection_list_visible_to(user=user, relationship=relationship, is_member=bool(me))
        ),
        my_pulses={
            check_in.pk
            for check_in in check_ins
            if any(pulse.author_id == me.pk for pulse in check_in.pulses.all())
        }
        if me
        else set(),
        partner_feedback=[
            answer
            for answer in answers
            if answer.visible_to == FeedbackQuestion.VisibleTo.PARTNER
            and answer.response.author_id != me.pk
        ]
        if me
        else [],
        survey_stages_open=stages_open,
        survey_stages_done=list(
            SurveyResponse.objects.filter(relationship=relationship, author=me).values_list(
                "stage", flat=True
            )
        )
        if me
        else [],
        reflection_stage=reflection_stage_for(relationship),
    )


def _attach_members(
    rows: Iterable[Any], field_name: str, members: dict[int, RelationshipMember]
) -> None:
    """Set each row's `field_name` (a foreign key to a member) from `members`, read already.
    A row whose member is not there keeps its lazy foreign key."""
    attname = f"{field_name}_id"
    for row in rows:
        member = members.get(getattr(row, attname))
        if member is not None:
            setattr(row, field_name, member)


def _health_of_home(
    relationship: Relationship,
    *,
    agreement: Agreement,
    goals: list[WithAnnotations[Goal, GoalChangeCount]],
    last_met_on: dt.date | None,
    survey_average: float | None,
) -> Health:
    """`health_for` of the one relationship, from what the home has read already (its
    agreement, goals, latest check-in and survey average); only its latest pulses are read
    here, as health_for reads them."""
    recent_pulses = list(
        Pulse.objects.filter(check_in__relationship=relationship)
        .order_by("-created_at")
        .values_list("usefulness", flat=True)[:3]
    )
    facts = HealthFacts(
        started_on=timezone.localdate(relationship.started_at),
        cadence_days=agreement.meeting_cadence_days,
        duration_weeks=agreement.duration_weeks,
        last_check_in_on=last_met_on,
        goals=tuple(
            GoalFacts(status=g.status, progress=g.progress, target_date=g.target_date)
            for g in goals
        ),
        recent_pulses=tuple(recent_pulses),
        survey_scale_average=survey_average,
    )
    return health_assess(facts=facts, today=timezone.localdate())


def reflection_list_visible_to(
    *, user: User, relationship: Relationship, is_member: bool | None = None
) -> QuerySet[Reflection]:
    """The user's own reflections, and — for members only — the others' shared ones. "Shared"
    means with the others in the relationship: a coordinator never reads them."""
    if is_member is None:
        is_member = relationship.members.filter(enrolment__user=user).exists()
    visible = Q(author=user) | Q(shared=True) if is_member else Q(author=user)
    return (
        Reflection.objects.filter(relationship=relationship)
        .filter(visible)
        .select_related("author")
        .order_by("-created_at")
    )


# --- Feedback a coordinator may see ---------------------------------------------------------


@dataclass(frozen=True)
class QuestionAggregate:
    question: FeedbackQuestion
    stage: str
    answered: int
    average: float | None  # scale questions, only when answered >= MIN_ANSWERS_SHOWN
    texts: tuple[str, ...]  # free text, only when answered >= MIN_ANSWERS_SHOWN


def feedback_aggregates_for_cohort(*, cohort: Cohort) -> list[QuestionAggregate]:
    """Per question and stage: how many answered, and — only where at least three did — the
    average and the comments, so no single person's answer can be picked out."""
    answers = (
        SurveyAnswer.objects.filter(response__relationship__cohort=cohort)
        .values("question_id", "response__stage")
        .annotate(answered=Count("pk"), average=Avg("scale_value"))
        .order_by("question__position", "question_id", "response__stage")
    )
    questions = {q.pk: q for q in cohort.program.questions.all()}
    texts: dict[tuple[int, str], list[str]] = defaultdict(list)
    for question_id, stage, text in (
        SurveyAnswer.objects.filter(response__relationship__cohort=cohort)
        .exclude(text_value="")
        .values_list("question_id", "response__stage", "text_value")
    ):
        texts[(question_id, stage)].append(text)
    result = []
    for row in answers:
        question = questions.get(row["question_id"])
        if question is None:
            continue
        enough = row["answered"] >= MIN_ANSWERS_SHOWN
        result.append(
            QuestionAggregate(
                question=question,
                stage=row["response__stage"],
                answered=row["answered"],
                average=round(row["average"], 2) if enough and row["average"] is not None else None,
                texts=tuple(sorted(texts[(row["question_id"], row["response__stage"])]))
                if enough
                else (),
            )
        )
    return result


# --- Calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    starts_at: dt.datetime
    summary: str
    description: str


def calendar_events_for(*, user: User) -> list[CalendarEvent]:
    """The person's upcoming meetings: the next meeting agreed at each active relationship's
    latest check-ins. Never a summary or note: a calendar feed leaves our hands."""
    now = timezone.now()
    check_ins = (
        CheckIn.objects.filter(
            relationship__members__enrolment__user=user,
            relationship__status=Relationship.Status.ACTIVE,
            next_meeting_at__gt=now,
        )
        .select_related("relationship__cohort__program")
        .order_by("next_meeting_at")
        .distinct()
    )
    return [
        CalendarEvent(
            uid=f"check-in-{c.pk}@mentorship",
            starts_at=c.next_meeting_at,
            summary=f"Mentoring: {c.relationship.cohort.program.name}",
            description="Your next mentoring meeting, as agreed at your last check-in.",
        )
        for c in check_ins
        if c.next_meeting_at is not None  # always, by the filter: this tells the type checker
    ]


def relationship_list_active_in(*, cohort: Cohort) -> list[Relationship]:
    """The cohort's active relationships, with their program (health reads it)."""
    return list(
        cohort.relationships.filter(status=Relationship.Status.ACTIVE).select_related(
            "cohort__program"
        )
    )


def goal_list_open_in(*, relationship: Relationship) -> list[Goal]:
    """Goals neither done nor dropped, soonest target first, without milestones: what a
    check-in can move on (a goal with milestones moves as they are ticked)."""
    return list(
        relationship.goals.exclude(status__in=[Goal.Status.DONE, Goal.Status.DROPPED])
        .filter(milestones__isnull=True)
        .order_by("target_date", "pk")
    )


def goal_change_list(*, goal: Goal) -> QuerySet[GoalChange]:
    return goal.changes.select_related("changed_by").order_by("-changed_at", "-pk")


def member_list_of(*, relationship: Relationship) -> list[RelationshipMember]:
    return list(relationship.members.select_related("enrolment__user").order_by("role", "pk"))


# --- What a member should do next -----------------------------------------------------------


@dataclass
class NextStep:
    text: str
    url: str
    action: str


def _home_url(relationship: Relationship, anchor: str = "") -> str:
    url = reverse("goals:relationship_home", args=[relationship.pk])
    return f"{url}#{anchor}" if anchor else url


def next_steps_for(*, home: RelationshipHome) -> list[NextStep]:
    """What a member should do next, most pressing first. Only on the timeline's first page,
    which holds the newest check-ins."""
    me, relationship = home.me, home.relationship
    steps: list[NextStep] = []
    if me is None or relationship.status != Relationship.Status.ACTIVE:
        return steps
    if not next(s.signed_current for s in home.signatures if s.member.pk == me.pk):
        steps.append(
            NextStep(
                f"Read and sign the agreement (version {home.agreement.version}).",
                _home_url(relationship, "agreement"),
                "Read and sign",
            )
        )
    if not home.goals:
        steps.append(
            NextStep(
                "Set your first goal: what you want to achieve, and by when.",
                reverse("goals:goal_create", args=[relationship.pk]),
                "Add a goal",
            )
        )
    cadence = home.agreement.meeting_cadence_days
    latest = home.check_ins[0].met_on if home.check_ins else None
    if latest is None or (timezone.localdate() - latest).days > cadence:
        steps.append(
            NextStep(
                "Log a check-in: no meeting logged yet."
                if latest is None
                else f"Log a check-in: you agreed to meet every {cadence} days.",
                reverse("goals:check_in_create", args=[relationship.pk]),
                "Log a check-in",
            )
        )
    for check_in in home.check_ins:
        if check_in.logged_by_id == me.pk:
            continue
        if check_in.confirmed_at is None:
            steps.append(
                NextStep(
                    f"Confirm the check-in of {_day(check_in.met_on)} logged by "
                    f"{check_in.logged_by.enrolment.user.display_name}.",
                    _home_url(relationship, f"check-in-{check_in.pk}"),
                    "Confirm",
                )
            )
        if check_in.pk not in home.my_pulses:
            steps.append(
                NextStep(
                    f"How useful was the check-in of {_day(check_in.met_on)}? One tap.",
                    _home_url(relationship, f"check-in-{check_in.pk}"),
                    "Rate it",
                )
            )
    for stage in home.survey_stages_open:
        if stage not in home.survey_stages_done:
            steps.append(
                NextStep(
                    f"Answer the {stage} survey: a few questions, a few minutes.",
                    reverse("goals:survey", args=[relationship.pk, stage]),
                    "Answer the survey",
                )
            )
    steps.append(
        NextStep(
            f"A question to reflect on: {home.reflection_prompts[0]}",
            reverse("goals:reflections", args=[relationship.pk]),
            "Write a reflection",
        )
    )
    return steps


def _day(date: dt.date) -> str:
    return f"{date.day} {date:%b}"
