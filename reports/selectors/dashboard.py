"""Reads for the cohort, program and organisation dashboards and the drill-down behind them.

Rules that hold for every figure here:

- **Aggregates and activity metadata only.** Nothing reads a private note, a reflection, an
  answer's text or a readiness rating. Survey scale answers are read as counts and sums per
  question; an average (and the recommend score) is released only where at least
  MIN_ANSWERS_SHOWN people answered, as on the cohort's feedback page. A health reason that
  quotes a pair's own feedback score is reworded without the number (`reasons_for_coordinator`).
- **A fixed number of queries** whatever the number of rows: each group of figures is one
  grouped query over the whole view (GROUP BY cohort, conditional aggregates), and the totals,
  each cohort's and each program's figures are summed from the same rows in Python. Health
  comes from goals.selectors.health_for, which reads every active relationship in its fixed
  number of queries and judges each by goals.health.
- **Cached briefly.** Computing the figures of a 10,000-pair cohort takes seconds; a dashboard
  is read far more often than its figures change. The figures of a view (its scope and
  filters) are kept DASHBOARD_CACHE_SECONDS (60 s by default) and refreshed by one request
  while the others keep reading the previous ones. What a coordinator just did is read fresh:
  whether a pair was nudged today.

Who may see what is decided here too (`cohort_list_for_dashboards`, ...): the views only ask.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import (
    Count,
    Exists,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, TruncMonth
from django.utils import timezone

from accounts.models import Profile, User
from goals import health as health_rules
from goals.health import Health
from goals.models import Agreement, AgreementSignature, CheckIn, Goal, SurveyAnswer, SurveyResponse
from goals.selectors import MIN_ANSWERS_SHOWN, health_for
from matching.models import Relationship, RelationshipMember
from programs.models import Cohort, Enrolment, FeedbackQuestion, Invitation, Program
from programs.selectors import cohort_list_visible_to, program_list_visible_to

from ..models import Nudge

T = TypeVar("T")

AT_RISK_SHOWN = 10  # the at-risk list on a dashboard; the drill-down has them all
MONTHS_SHOWN = 12  # the longest time axis
SERIES_SHOWN = 6  # cohorts drawn side by side on a program's chart (all are in its table)
DAYS_PER_MONTH = 30.4375
# A scale question is the recommend question when its text says so ("How likely are you to
# recommend the program to a colleague?"): programs word their own questions.
RECOMMEND_WORD = "recommend"
HIGH_ANSWER = 4  # of 5: "would recommend" when the answer is 4 or 5

COMPLETED_OUTCOMES = (Relationship.Outcome.ACHIEVED, Relationship.Outcome.PARTLY)
OPEN_GOAL = ~Q(status__in=[Goal.Status.DONE, Goal.Status.DROPPED])

# --- Who may see which dashboard ----------------------------------------------------------------


def cohort_list_for_dashboards(*, user: User) -> QuerySet[Cohort]:
    """Cohorts whose dashboard (with its drill-down and nudges) `user` may open: those of the
    programs they coordinate, and every cohort for an admin, who sees everything anyway."""
    if not user.is_authenticated:
        return Cohort.objects.none()
    if user.is_staff:
        return Cohort.objects.select_related("program")
    return cohort_list_visible_to(user=user)


def program_list_for_dashboards(*, user: User) -> QuerySet[Program]:
    if not user.is_authenticated:
        return Program.objects.none()
    if user.is_staff:
        return Program.objects.all()
    return program_list_visible_to(user=user)


def organisation_view_allowed(*, user: User) -> bool:
    """Program creators (the Program coordinators group's permission) and admins read every
    program's figures; names behind them only where they may open the program."""
    return user.is_authenticated and (user.is_staff or user.has_perm("programs.add_program"))


def organisation_drill_allowed(*, user: User) -> bool:
    """The relationships behind the organisation's figures, across every program: admins."""
    return user.is_authenticated and user.is_staff


# --- What a dashboard covers ----------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeCohort:
    id: int
    name: str
    status: str
    starts_on: dt.date
    ends_on: dt.date
    program_id: int
    program_name: str
    kind: str

    @property
    def label(self) -> str:
        return f"{self.program_name} — {self.name}"


@dataclass(frozen=True)
class Scope:
    """The cohorts a dashboard covers before filters, and how the page names them."""

    key: str  # "cohort:12", "program:3", "organisation": part of the cache key
    label: str
    cohorts: tuple[ScopeCohort, ...]

    @property
    def kinds(self) -> set[str]:
        return {c.kind for c in self.cohorts}


def _scope_cohort(cohort: Cohort) -> ScopeCohort:
    return ScopeCohort(
        id=cohort.pk,
        name=cohort.name,
        status=cohort.status,
        starts_on=cohort.starts_on,
        ends_on=cohort.ends_on,
        program_id=cohort.program_id,
        program_name=cohort.program.name,
        kind=cohort.program.kind,
    )


def scope_for_cohort(*, cohort: Cohort) -> Scope:
    return Scope(key=f"cohort:{cohort.pk}", label=cohort.name, cohorts=(_scope_cohort(cohort),))


def scope_for_program(*, program: Program) -> Scope:
    cohorts = program.cohorts.select_related("program").order_by("starts_on", "pk")
    return Scope(
        key=f"program:{program.pk}",
        label=program.name,
        cohorts=tuple(_scope_cohort(c) for c in cohorts),
    )


def scope_for_organisation() -> Scope:
    cohorts = Cohort.objects.select_related("program").order_by("program__name", "starts_on", "pk")
    return Scope(
        key="organisation",
        label="every program",
        cohorts=tuple(_scope_cohort(c) for c in cohorts),
    )


# --- Filters, read from the query string ---------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    cohort: int | None = None
    department: str = ""
    level: int | None = None
    role: str = ""
    kind: str = ""

    @property
    def filters_people(self) -> bool:
        return bool(self.department or self.level is not None or self.role)

    @property
    def is_set(self) -> bool:
        return self.filters_people or self.cohort is not None or bool(self.kind)

    def as_params(self) -> dict[str, str]:
        params = {
            "cohort": "" if self.cohort is None else str(self.cohort),
            "department": self.department,
            "level": "" if self.level is None else str(self.level),
            "role": self.role,
            "kind": self.kind,
        }
        return {name: value for name, value in params.items() if value}

    @property
    def query(self) -> str:
        """The filters as a query string, for links that keep them (drill-down, pages)."""
        return urlencode(self.as_params())

    @property
    def key(self) -> str:
        return self.query or "-"


@dataclass(frozen=True)
class FilterOptions:
    """What each filter offers on this dashboard (an empty tuple: the filter is not offered)."""

    cohorts: tuple[tuple[int, str], ...]
    departments: tuple[str, ...]
    levels: tuple[tuple[int, str], ...]
    roles: tuple[tuple[str, str], ...]
    kinds: tuple[tuple[str, str], ...]


FILTER_NAMES = {
    "cohort": "cohort",
    "department": "department",
    "level": "job level",
    "role": "role",
    "kind": "program kind",
}


def filter_options(*, scope: Scope, offer_cohort: bool, offer_kind: bool) -> FilterOptions:
    """The choices of the dashboard's filter form: the departments are those of the people in
    the view (one query, cached with the figures)."""

    def compute() -> tuple[str, ...]:
        return tuple(
            Profile.objects.filter(user__enrolments__cohort_id__in=[c.id for c in scope.cohorts])
            .exclude(department="")
            .order_by("department")
            .values_list("department", flat=True)
            .distinct()
        )

    departments = _cached(f"reports:departments:v1:{scope.key}", compute)
    return FilterOptions(
        cohorts=tuple((c.id, c.label) for c in scope.cohorts) if offer_cohort else (),
        departments=departments,
        levels=tuple((int(v), str(label)) for v, label in Profile.JobLevel.choices),
        roles=tuple((str(v), str(label)) for v, label in Enrolment.Role.choices),
        kinds=tuple((str(v), str(label)) for v, label in Program.Kind.choices)
        if offer_kind
        else (),
    )


def filters_read(*, params: Mapping[str, str], options: FilterOptions) -> tuple[Filters, list[str]]:
    """The filters in `params` that this dashboard offers and knows; every other value is
    ignored, and said so in a message (a shared link that names a department nobody is in any
    more still opens, showing everyone)."""
    notices: list[str] = []

    def unknown(name: str, value: str) -> None:
        notices.append(
            f"“{value[:60]}” is not a {FILTER_NAMES[name]} on this dashboard, so that filter "
            "is ignored."
        )

    def choice(name: str, allowed: Iterable[str]) -> str:
        value = params.get(name, "").strip()
        if value and value not in set(allowed):
            unknown(name, value)
            return ""
        return value

    def number(name: str, allowed: Iterable[int]) -> int | None:
        value = params.get(name, "").strip()
        if not value:
            return None
        if value.isdigit() and int(value) in set(allowed):
            return int(value)
        unknown(name, value)
        return None

    return (
        Filters(
            cohort=number("cohort", (pk for pk, _ in options.cohorts)),
            department=choice("department", options.departments),
            level=number("level", (value for value, _ in options.levels)),
            role=choice("role", (value for value, _ in options.roles)),
            kind=choice("kind", (value for value, _ in options.kinds)),
        ),
        notices,
    )


KIND_ROLES: dict[str, frozenset[str]] = {
    Program.Kind.ONE_TO_ONE: frozenset({Enrolment.Role.MENTOR, Enrolment.Role.MENTEE}),
    Program.Kind.REVERSE: frozenset({Enrolment.Role.MENTOR, Enrolment.Role.MENTEE}),
    Program.Kind.CIRCLE: frozenset({Enrolment.Role.MENTOR, Enrolment.Role.MENTEE}),
    Program.Kind.PEER: frozenset({Enrolment.Role.PEER}),
}


def cohorts_in_view(*, scope: Scope, filters: Filters) -> tuple[ScopeCohort, ...]:
    return tuple(
        c
        for c in scope.cohorts
        if (filters.cohort is None or c.id == filters.cohort)
        and (not filters.kind or c.kind == filters.kind)
    )


def filters_problem(*, scope: Scope, filters: Filters) -> str:
    """Why these filters cannot match anything here ("" when they can), in words that say
    which filters clash."""
    kind_label = dict(Program.Kind.choices)
    role_label = dict(Enrolment.Role.choices)
    by_id = {c.id: c for c in scope.cohorts}
    chosen = by_id.get(filters.cohort) if filters.cohort is not None else None
    if chosen is not None and filters.kind and chosen.kind != filters.kind:
        return (
            f"{chosen.label} belongs to a {kind_label[chosen.kind].lower()} program, not a "
            f"{kind_label[filters.kind].lower()} program: no cohort is both."
        )
    cohorts = cohorts_in_view(scope=scope, filters=filters)
    if not cohorts:
        return "" if not scope.cohorts else "No cohort here matches these filters."
    if filters.role:
        kinds = {c.kind for c in cohorts}
        if not any(filters.role in KIND_ROLES[kind] for kind in kinds):
            role = role_label[filters.role].lower()
            what = ", ".join(sorted(kind_label[k].lower() for k in kinds))
            if filters.role == Enrolment.Role.PEER:
                return f"Only peer programs have peers, and the programs shown are {what}."
            return f"Peer programs have peers, not {role}s: there is no {role} to show."
    return ""


# --- Caching -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    value: Any
    fresh_until: float


REFRESH_LOCK_SECONDS = 120
WAIT_SECONDS = 20.0  # a request finding the figures being computed waits this long for them
WAIT_STEP_SECONDS = 0.2
STALE_FACTOR = 10  # stale figures are served (while one request refreshes) this many times longer


def figures_kept_seconds() -> int:
    """How long computed figures stay in the cache, stale ones included; 0: not cached."""
    seconds: int = settings.DASHBOARD_CACHE_SECONDS
    return seconds * STALE_FACTOR


def _cached(key: str, compute: Callable[[], T]) -> T:
    """`compute()`, kept DASHBOARD_CACHE_SECONDS. One request computes (it takes the key's
    lock): once the value is stale, the others keep serving the stale one meanwhile; before
    there is any, they wait for it (up to WAIT_SECONDS) rather than compute it too. So twenty
    coordinators opening a 10,000-pair dashboard at once compute its figures once."""
    seconds: int = settings.DASHBOARD_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    lock = f"{key}:computing"
    entry = cache.get(key)
    if isinstance(entry, _Entry):
        if entry.fresh_until > time.time():
            return entry.value
        if not cache.add(lock, True, timeout=REFRESH_LOCK_SECONDS):
            return entry.value
    elif not cache.add(lock, True, timeout=REFRESH_LOCK_SECONDS):
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(WAIT_STEP_SECONDS)
            entry = cache.get(key)
            if isinstance(entry, _Entry):
                return entry.value
        # The one computing is taking too long (or died): compute them here too.
    try:
        started = time.time()
        value = compute()
        cache.set(
            key,
            _Entry(value=value, fresh_until=started + seconds),
            timeout=figures_kept_seconds(),
        )
    finally:
        cache.delete(lock)
    return value


# --- The figures ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Released:
    """An average of survey answers: `average` (and `high_share`) are None until at least
    MIN_ANSWERS_SHOWN people answered, so no one's answer can be worked out from it."""

    answered: int  # people
    average: float | None
    high_share: float | None = None  # answers of 4 or 5 (the recommend score's "would")
    answers: int = 0


def _released(*, people: int, answers: int, total: float, high: int = 0) -> Released:
    if people < MIN_ANSWERS_SHOWN or not answers:
        return Released(answered=people, average=None, answers=answers)
    return Released(
        answered=people,
        average=round(total / answers, 2),
        high_share=high / answers,
        answers=answers,
    )


@dataclass(frozen=True)
class FunnelStage:
    key: str
    label: str
    count: int
    share: float | None  # of the first stage


FUNNEL = (
    ("invited", "Invited"),
    ("applied", "Applied"),
    ("approved", "Approved"),
    ("matched", "Matched"),
    ("active", "Active"),
    ("completed", "Completed"),
)
FUNNEL_EXPLAINED = {
    "invited": "everyone invited, imported or applying (invitations not yet accepted too)",
    "applied": "applied, or accepted an invitation",
    "approved": "approved by a coordinator (or matched)",
    "matched": "in a relationship, now or before",
    "active": "in an active relationship",
    "completed": "in a relationship that ended with its goals achieved or partly achieved",
}


@dataclass(frozen=True)
class GoalFigures:
    total: int = 0
    done: int = 0
    on_track: int = 0
    at_risk: int = 0
    not_started: int = 0
    dropped: int = 0
    overdue: int = 0  # open and past the target date
    open: int = 0
    average_progress: float | None = None  # of open goals, 0..100


@dataclass(frozen=True)
class Summary:
    """The figures of a set of cohorts: the whole view, one cohort, or one program."""

    people: int
    funnel: tuple[FunnelStage, ...]
    share_matched: float | None  # matched of approved
    relationships: int
    active: int
    completed: int
    ended_early: int
    signed: int  # every member signed the agreement's current version
    share_signed: float | None
    health: dict[str, int]  # active relationships by goals.health status
    share_on_track: float | None
    goals: GoalFigures
    feedback: Released  # every scale answer
    recommend: Released
    expected_per_month: float | None  # check-ins a month the agreed cadences ask for, a pair


@dataclass(frozen=True)
class MonthFigure:
    month: dt.date  # its first day
    running: int  # relationships running that month
    check_ins: int
    per_relationship: float | None
    expected: float | None
    partial: bool  # the current month, so far

    @property
    def key(self) -> str:
        return f"{self.month:%Y-%m}"


@dataclass(frozen=True)
class QuestionFigure:
    question_id: int
    text: str
    stage: str
    stage_label: str
    released: Released
    is_recommend: bool


@dataclass(frozen=True)
class AtRiskRow:
    relationship_id: int
    cohort_label: str
    members: tuple[tuple[str, str], ...]  # (name, role label)
    reasons: tuple[str, ...]
    points: int
    last_check_in_on: dt.date | None
    started_on: dt.date

    @property
    def names(self) -> str:
        return " & ".join(name for name, _ in self.members)

    @property
    def roles(self) -> str:
        return ", ".join(role.lower() for _, role in self.members)


@dataclass(frozen=True)
class CohortSeries:
    cohort: ScopeCohort
    values: tuple[float | None, ...]  # check-ins per relationship in month 1, 2, ... of it


@dataclass(frozen=True)
class Figures:
    total: Summary
    by_cohort: tuple[tuple[ScopeCohort, Summary], ...]
    by_program: tuple[tuple[int, str, Summary], ...]
    months: tuple[MonthFigure, ...]
    series: tuple[CohortSeries, ...]
    series_length: int
    questions: tuple[QuestionFigure, ...]
    has_recommend_question: bool
    invitations_counted: bool  # False when department or level filters hide them
    at_risk: tuple[AtRiskRow, ...]
    at_risk_total: int
    health_ids: dict[str, tuple[int, ...]] = field(default_factory=dict)
    computed_at: dt.datetime = field(default_factory=timezone.now)


@dataclass
class _Sums:
    """One cohort's raw counts and sums, from which every figure is derived."""

    funnel: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    relationships: int = 0
    active: int = 0
    completed: int = 0
    ended_early: int = 0
    signed: int = 0
    expected: float = 0.0
    goals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    open_progress: int = 0
    health: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # (question, stage) -> (answers, their sum, answers of 4 or 5, people who answered)
    answers: dict[tuple[int, str], tuple[int, int, int, int]] = field(default_factory=dict)
    respondents: int = 0  # people who answered any scale question
    check_ins: dict[dt.date, int] = field(default_factory=lambda: defaultdict(int))
    # (first month, last month or None) -> relationships
    spans: dict[tuple[dt.date, dt.date | None], int] = field(
        default_factory=lambda: defaultdict(int)
    )

    def add(self, other: _Sums) -> None:
        for name in (
            *("relationships", "active", "completed", "ended_early", "signed"),
            "respondents",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.expected += other.expected
        self.open_progress += other.open_progress
        _add_counts(self.funnel, other.funnel)
        _add_counts(self.goals, other.goals)
        _add_counts(self.health, other.health)
        _add_counts(self.check_ins, other.check_ins)
        _add_counts(self.spans, other.spans)
        for answer, counts in other.answers.items():
            was = self.answers.get(answer, (0, 0, 0, 0))
            self.answers[answer] = (
                was[0] + counts[0],
                was[1] + counts[1],
                was[2] + counts[2],
                was[3] + counts[3],
            )

    def running(self, month: dt.date) -> int:
        return sum(
            n
            for (first, last), n in self.spans.items()
            if first <= month and (last is None or last >= month)
        )


K = TypeVar("K")


def _add_counts(mine: dict[K, int], theirs: Mapping[K, int]) -> None:
    for key, value in theirs.items():
        mine[key] = mine.get(key, 0) + value


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _summary(sums: _Sums, *, recommend_ids: set[int]) -> Summary:
    funnel = sums.funnel
    first = funnel.get("invited", 0)
    stages = tuple(
        FunnelStage(
            key=key, label=label, count=funnel.get(key, 0), share=_share(funnel[key], first)
        )
        for key, label in FUNNEL
    )
    goals = sums.goals
    open_goals = goals.get("open", 0)
    answered = sum(counts[0] for counts in sums.answers.values())
    total = sum(counts[1] for counts in sums.answers.values())
    recommend = [v for (question, _), v in sums.answers.items() if question in recommend_ids]
    judged = sum(sums.health.values())
    return Summary(
        people=funnel.get("people", 0),
        funnel=stages,
        share_matched=_share(funnel.get("matched", 0), funnel.get("approved", 0)),
        relationships=sums.relationships,
        active=sums.active,
        completed=sums.completed,
        ended_early=sums.ended_early,
        signed=sums.signed,
        share_signed=_share(sums.signed, sums.relationships),
        health={status: sums.health.get(status, 0) for status in health_rules.LABELS},
        share_on_track=_share(sums.health.get(health_rules.ON_TRACK, 0), judged),
        goals=GoalFigures(
            total=goals.get("total", 0),
            done=goals.get("done", 0),
            on_track=goals.get("on_track", 0),
            at_risk=goals.get("at_risk", 0),
            not_started=goals.get("not_started", 0),
            dropped=goals.get("dropped", 0),
            overdue=goals.get("overdue", 0),
            open=open_goals,
            average_progress=round(sums.open_progress / open_goals, 1) if open_goals else None,
        ),
        feedback=_released(people=sums.respondents, answers=answered, total=total),
        recommend=_released(
            people=sum(r[3] for r in recommend),
            answers=sum(r[0] for r in recommend),
            total=sum(r[1] for r in recommend),
            high=sum(r[2] for r in recommend),
        ),
        expected_per_month=round(sums.expected / sums.active, 2) if sums.active else None,
    )


def _member_q(filters: Filters, prefix: str = "") -> Q:
    """Relationship members (or survey authors, with a prefix) matching the people filters."""
    q = Q()
    if filters.role:
        q &= Q(**{f"{prefix}role": filters.role})
    if filters.department:
        q &= Q(**{f"{prefix}enrolment__user__profile__department": filters.department})
    if filters.level is not None:
        q &= Q(**{f"{prefix}enrolment__user__profile__job_level": filters.level})
    return q


def _relationship_q(filters: Filters, relationship: str = "pk") -> Q:
    """Relationships with at least one member matching the people filters; `relationship` is
    the outer query's path to the relationship's id."""
    if not filters.filters_people:
        return Q()
    return Q(
        Exists(
            RelationshipMember.objects.filter(relationship_id=OuterRef(relationship)).filter(
                _member_q(filters)
            )
        )
    )


def relationship_list_in_view(
    *, cohort_ids: Sequence[int], filters: Filters
) -> QuerySet[Relationship]:
    """Relationships of these cohorts with a member matching the people filters."""
    return Relationship.objects.filter(cohort_id__in=cohort_ids).filter(_relationship_q(filters))


def _month(value: dt.date | dt.datetime | None) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
    return value.replace(day=1)


def _month_of(value: dt.date | dt.datetime) -> dt.date:
    """The first day of the month of `value` (never empty)."""
    month = _month(value)
    if month is None:  # pragma: no cover (only None is None)
        raise ValueError(value)
    return month


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _read_sums(
    *, cohort_ids: list[int], filters: Filters, today: dt.date
) -> tuple[dict[int, _Sums], bool]:
    """Every cohort's counts, in six grouped queries whatever the number of rows."""
    sums: dict[int, _Sums] = defaultdict(_Sums)

    # People, by how far they got: their enrolments' statuses, then their relationships (a
    # person counts once however many relationships they are in).
    people = Q()
    if filters.role:
        people &= Q(role=filters.role)
    if filters.department:
        people &= Q(user__profile__department=filters.department)
    if filters.level is not None:
        people &= Q(user__profile__job_level=filters.level)
    for row in (
        Enrolment.objects.filter(cohort_id__in=cohort_ids)
        .filter(people)
        .values("cohort_id")
        .order_by()
        .annotate(
            people=Count("pk"),
            applied=Count("pk", filter=~Q(status=Enrolment.Status.INVITED)),
            approved=Count("pk", filter=Q(status=Enrolment.Status.APPROVED)),
        )
    ):
        funnel = sums[row["cohort_id"]].funnel
        for key in ("people", "applied", "approved"):
            funnel[key] += row[key]
        funnel["invited"] += row["people"]
    in_relationship = _member_q(filters, "")
    ended_well = Q(
        relationship__status=Relationship.Status.ENDED,
        relationship__outcome__in=COMPLETED_OUTCOMES,
    )
    for row in (
        RelationshipMember.objects.filter(enrolment__cohort_id__in=cohort_ids)
        .filter(in_relationship)
        .values("enrolment__cohort_id")
        .order_by()
        .annotate(
            matched=Count("enrolment_id", distinct=True),
            # Matched, then withdrawn or declined: approved once, so counted there too.
            unapproved=Count(
                "enrolment_id",
                distinct=True,
                filter=~Q(enrolment__status=Enrolment.Status.APPROVED),
            ),
            active=Count(
                "enrolment_id",
                distinct=True,
                filter=Q(relationship__status=Relationship.Status.ACTIVE),
            ),
            completed=Count("enrolment_id", distinct=True, filter=ended_well),
        )
    ):
        funnel = sums[row["enrolment__cohort_id"]].funnel
        for key in ("matched", "active", "completed"):
            funnel[key] += row[key]
        funnel["approved"] += row["unapproved"]

    # Invitations not accepted yet are people invited too; nobody knows their department.
    invitations_counted = filters.department == "" and filters.level is None
    if invitations_counted:
        invitations = Invitation.objects.filter(
            cohort_id__in=cohort_ids, accepted_at__isnull=True
        ).exclude(
            Exists(
                Enrolment.objects.filter(
                    cohort_id=OuterRef("cohort_id"), user__email__iexact=OuterRef("email")
                )
            )
        )
        if filters.role:
            invitations = invitations.filter(role=filters.role)
        pending = invitations.values("cohort_id").order_by().annotate(n=Count("pk"))
        for cohort_id, n in pending.values_list("cohort_id", "n"):
            sums[cohort_id].funnel["invited"] += n

    # Relationships: how many, how they ended, agreements, the cadence they agreed; grouped by
    # the months they started and ended too, for "running that month".
    unsigned_member = RelationshipMember.objects.filter(relationship_id=OuterRef("pk")).exclude(
        Exists(
            AgreementSignature.objects.filter(
                member_id=OuterRef("pk"), version=F("agreement__version")
            )
        )
    )
    signed = Exists(Agreement.objects.filter(relationship_id=OuterRef("pk"))) & ~Exists(
        unsigned_member
    )
    cadence = Coalesce("agreement__meeting_cadence_days", "cohort__program__meeting_cadence_days")
    active = Q(status=Relationship.Status.ACTIVE)
    for row in (
        relationship_list_in_view(cohort_ids=cohort_ids, filters=filters)
        .annotate(first=TruncMonth("started_at"), last=TruncMonth("ended_at"))
        .values("cohort_id", "first", "last")
        .order_by()
        .annotate(
            n=Count("pk"),
            active=Count("pk", filter=active),
            completed=Count(
                "pk",
                filter=Q(status=Relationship.Status.ENDED, outcome__in=COMPLETED_OUTCOMES),
            ),
            ended_early=Count(
                "pk",
                filter=Q(status=Relationship.Status.ENDED) & ~Q(outcome__in=COMPLETED_OUTCOMES),
            ),
            signed=Count("pk", filter=signed),
            expected=Sum(
                Value(DAYS_PER_MONTH) / Cast(cadence, FloatField()),
                filter=active,
                output_field=FloatField(),
            ),
        )
    ):
        one = sums[row["cohort_id"]]
        one.relationships += row["n"]
        one.active += row["active"]
        one.completed += row["completed"]
        one.ended_early += row["ended_early"]
        one.signed += row["signed"]
        one.expected += row["expected"] or 0.0
        one.spans[(_month_of(row["first"]), _month(row["last"]))] += row["n"]

    # Check-ins, month by month.
    for cohort_id, month, n in (
        CheckIn.objects.filter(relationship__cohort_id__in=cohort_ids)
        .filter(_relationship_q(filters, "relationship_id"))
        .annotate(month=TruncMonth("met_on"))
        .values("relationship__cohort_id", "month")
        .order_by()
        .annotate(n=Count("pk"))
        .values_list("relationship__cohort_id", "month", "n")
    ):
        sums[cohort_id].check_ins[_month_of(month)] += n

    # Goals.
    for row in (
        Goal.objects.filter(relationship__cohort_id__in=cohort_ids)
        .filter(_relationship_q(filters, "relationship_id"))
        .values("relationship__cohort_id")
        .order_by()
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=Q(status=Goal.Status.DONE)),
            on_track=Count("pk", filter=Q(status=Goal.Status.ON_TRACK)),
            at_risk=Count("pk", filter=Q(status=Goal.Status.AT_RISK)),
            not_started=Count("pk", filter=Q(status=Goal.Status.NOT_STARTED)),
            dropped=Count("pk", filter=Q(status=Goal.Status.DROPPED)),
            overdue=Count("pk", filter=OPEN_GOAL & Q(target_date__lt=today)),
            open=Count("pk", filter=OPEN_GOAL),
            open_progress=Sum("progress", filter=OPEN_GOAL),
        )
    ):
        one = sums[row["relationship__cohort_id"]]
        for key in ("total", "done", "on_track", "at_risk", "not_started", "dropped"):
            one.goals[key] += row[key]
        one.goals["overdue"] += row["overdue"]
        one.goals["open"] += row["open"]
        one.open_progress += row["open_progress"] or 0

    # Survey scale answers, as counts and sums per question, and how many people gave them:
    # never an answer on its own.
    scale_answers = SurveyAnswer.objects.filter(
        response__relationship__cohort_id__in=cohort_ids,
        scale_value__isnull=False,
        question__answer_kind=FeedbackQuestion.AnswerKind.SCALE,
    ).filter(_member_q(filters, "response__author__"))
    person = "response__author__enrolment__user_id"
    for row in (
        scale_answers.values("response__relationship__cohort_id", "question_id", "response__stage")
        .order_by()
        .annotate(
            n=Count("pk"),
            total=Sum("scale_value"),
            high=Count("pk", filter=Q(scale_value__gte=HIGH_ANSWER)),
            people=Count(person, distinct=True),
        )
    ):
        sums[row["response__relationship__cohort_id"]].answers[
            (row["question_id"], row["response__stage"])
        ] = (row["n"], row["total"] or 0, row["high"], row["people"])
    for cohort_id, people_count in (
        scale_answers.values("response__relationship__cohort_id")
        .order_by()
        .annotate(people=Count(person, distinct=True))
        .values_list("response__relationship__cohort_id", "people")
    ):
        sums[cohort_id].respondents += people_count
    return sums, invitations_counted


def reasons_for_coordinator(reasons: Iterable[str]) -> tuple[str, ...]:
    """Health reasons as a coordinator reads them: a pair's own feedback score is one or two
    people's answers, below the three-answer threshold, so it is said without the number."""
    return tuple(
        "recent feedback from the pair is low" if reason.startswith("recent feedback") else reason
        for reason in reasons
    )


def _health(
    *, cohort_ids: list[int], filters: Filters, today: dt.date
) -> tuple[list[Relationship], dict[int, Health]]:
    # health_for reads each relationship's cohort and program: the few cohorts are read once
    # and shared, not joined into ten thousand rows (and as many model instances) again.
    cohorts = {c.pk: c for c in Cohort.objects.filter(pk__in=cohort_ids).select_related("program")}
    active = list(
        relationship_list_in_view(cohort_ids=cohort_ids, filters=filters)
        .filter(status=Relationship.Status.ACTIVE)
        .only("pk", "started_at", "status", "cohort_id")
        .order_by("pk")
    )
    for relationship in active:
        relationship.cohort = cohorts[relationship.cohort_id]
    return active, health_for(relationships=active, today=today)


def _at_risk_rows(
    *, relationships: list[Relationship], health: dict[int, Health]
) -> tuple[list[AtRiskRow], tuple[int, ...]]:
    """The at-risk relationships, most points first, and the first AT_RISK_SHOWN as rows with
    their members' names and last check-in (two queries)."""
    at_risk = sorted(
        (r for r in relationships if health[r.pk].status == health_rules.AT_RISK),
        key=lambda r: (-health[r.pk].points, r.started_at, r.pk),
    )
    shown = at_risk[:AT_RISK_SHOWN]
    ids = [r.pk for r in shown]
    members: dict[int, list[tuple[str, str]]] = defaultdict(list)
    role_label = dict(RelationshipMember.Role.choices)
    for relationship_id, role, name, email in (
        RelationshipMember.objects.filter(relationship_id__in=ids)
        .order_by("relationship_id", "-role", "pk")
        .values_list(
            "relationship_id", "role", "enrolment__user__display_name", "enrolment__user__email"
        )
    ):
        members[relationship_id].append((name or email, str(role_label[role])))
    last = dict(
        CheckIn.objects.filter(relationship_id__in=ids)
        .values("relationship_id")
        .order_by()
        .annotate(last=Max("met_on"))
        .values_list("relationship_id", "last")
    )
    rows = [
        AtRiskRow(
            relationship_id=r.pk,
            cohort_label=r.cohort.name,
            members=tuple(members[r.pk]),
            reasons=reasons_for_coordinator(health[r.pk].reasons),
            points=health[r.pk].points,
            last_check_in_on=last.get(r.pk),
            started_on=timezone.localdate(r.started_at),
        )
        for r in shown
    ]
    return rows, tuple(r.pk for r in at_risk)


def _questions(*, cohorts: Sequence[ScopeCohort]) -> tuple[dict[int, FeedbackQuestion], set[int]]:
    """The scale questions of the programs in view, and which of them ask for a
    recommendation."""
    questions = {
        q.pk: q
        for q in FeedbackQuestion.objects.filter(
            program_id__in={c.program_id for c in cohorts},
            answer_kind=FeedbackQuestion.AnswerKind.SCALE,
        ).only("pk", "text", "position", "program_id", "answer_kind")
    }
    recommend = {pk for pk, q in questions.items() if RECOMMEND_WORD in q.text.lower()}
    return questions, recommend


def dashboard_figures(*, scope: Scope, filters: Filters, today: dt.date | None = None) -> Figures:
    """The figures of a dashboard (its scope and filters), cached briefly (see the module's
    docstring); a fixed number of queries when computed, none when cached."""
    today = today or timezone.localdate()
    return _cached(
        f"reports:figures:v1:{scope.key}:{filters.key}:{today.isoformat()}",
        lambda: _figures_compute(scope=scope, filters=filters, today=today),
    )


def _figures_compute(*, scope: Scope, filters: Filters, today: dt.date) -> Figures:
    cohorts = cohorts_in_view(scope=scope, filters=filters)
    cohort_ids = [c.id for c in cohorts]
    sums, invitations_counted = _read_sums(cohort_ids=cohort_ids, filters=filters, today=today)
    active, health = _health(cohort_ids=cohort_ids, filters=filters, today=today)
    health_ids: dict[str, list[int]] = defaultdict(list)
    for relationship in active:
        status = health[relationship.pk].status
        sums[relationship.cohort_id].health[status] += 1
        health_ids[status].append(relationship.pk)
    at_risk, at_risk_ids = _at_risk_rows(relationships=active, health=health)
    health_ids[health_rules.AT_RISK] = list(at_risk_ids)
    questions, recommend_ids = _questions(cohorts=cohorts)

    total = _Sums()
    by_program: dict[int, _Sums] = defaultdict(_Sums)
    for cohort in cohorts:
        total.add(sums[cohort.id])
        by_program[cohort.program_id].add(sums[cohort.id])
    program_names = {c.program_id: c.program_name for c in cohorts}

    stage_label = dict(SurveyResponse.Stage.choices)
    question_figures = sorted(
        (
            QuestionFigure(
                question_id=question_id,
                text=questions[question_id].text,
                stage=stage,
                stage_label=str(stage_label.get(stage, stage)),
                released=_released(people=people, answers=n, total=value_sum),
                is_recommend=question_id in recommend_ids,
            )
            for (question_id, stage), (n, value_sum, _, people) in total.answers.items()
            if question_id in questions
        ),
        key=lambda f: (
            list(stage_label).index(f.stage) if f.stage in stage_label else 9,
            questions[f.question_id].program_id,
            questions[f.question_id].position,
            f.question_id,
        ),
    )

    months = _months(cohorts=cohorts, total=total, today=today)
    series, length = _series(cohorts=cohorts, sums=sums, today=today)
    return Figures(
        total=_summary(total, recommend_ids=recommend_ids),
        by_cohort=tuple((c, _summary(sums[c.id], recommend_ids=recommend_ids)) for c in cohorts),
        by_program=tuple(
            (program_id, program_names[program_id], _summary(s, recommend_ids=recommend_ids))
            for program_id, s in sorted(by_program.items(), key=lambda i: program_names[i[0]])
        ),
        months=months,
        series=series,
        series_length=length,
        questions=tuple(question_figures),
        has_recommend_question=bool(recommend_ids),
        invitations_counted=invitations_counted,
        at_risk=tuple(at_risk),
        at_risk_total=len(at_risk_ids),
        health_ids={status: tuple(ids) for status, ids in health_ids.items()},
    )


def _months(
    *, cohorts: Sequence[ScopeCohort], total: _Sums, today: dt.date
) -> tuple[MonthFigure, ...]:
    """Check-ins per running relationship, calendar month by month: from the first cohort's
    start (at most MONTHS_SHOWN back) to the last one's end or this month."""
    if not cohorts:
        return ()
    this_month = today.replace(day=1)
    starts = [*(c.starts_on.replace(day=1) for c in cohorts), *(f for f, _ in total.spans)]
    first = min(starts)
    last = min(max(c.ends_on for c in cohorts).replace(day=1), this_month)
    if last < first:
        return ()
    count = min((last.year - first.year) * 12 + last.month - first.month + 1, MONTHS_SHOWN)
    first = _add_months(last, -(count - 1))
    expected = total.expected / total.active if total.active else None
    result = []
    for n in range(count):
        month = _add_months(first, n)
        running = total.running(month)
        partial = month == this_month
        share = 1.0
        if partial:
            days = (_add_months(month, 1) - month).days
            share = today.day / days
        check_ins = total.check_ins.get(month, 0)
        result.append(
            MonthFigure(
                month=month,
                running=running,
                check_ins=check_ins,
                per_relationship=round(check_ins / running, 2) if running else None,
                expected=round(expected * share, 2) if expected is not None and running else None,
                partial=partial,
            )
        )
    return tuple(result)


def _series(
    *, cohorts: Sequence[ScopeCohort], sums: Mapping[int, _Sums], today: dt.date
) -> tuple[tuple[CohortSeries, ...], int]:
    """Each cohort's check-ins per running relationship in its first, second, ... month: the
    cohorts side by side however far apart they ran. Whole months only."""
    this_month = today.replace(day=1)
    result = []
    length = 0
    for cohort in cohorts:
        one = sums.get(cohort.id) or _Sums()
        start = cohort.starts_on.replace(day=1)
        values: list[float | None] = []
        for n in range(MONTHS_SHOWN):
            month = _add_months(start, n)
            if month >= this_month or month > cohort.ends_on:
                break
            running = one.running(month)
            values.append(round(one.check_ins.get(month, 0) / running, 2) if running else None)
        while values and values[-1] is None:
            values.pop()
        if any(v is not None for v in values):
            length = max(length, len(values))
            result.append(CohortSeries(cohort=cohort, values=tuple(values)))
    return tuple(
        CohortSeries(cohort=s.cohort, values=s.values + (None,) * (length - len(s.values)))
        for s in result
    ), length


def nudged_today(*, relationship_ids: Iterable[int], today: dt.date | None = None) -> set[int]:
    """Which of these relationships were nudged today: read fresh on every page, so the button
    a coordinator just pressed says so at once."""
    return set(
        Nudge.objects.filter(
            relationship_id__in=list(relationship_ids), day=today or timezone.localdate()
        ).values_list("relationship_id", flat=True)
    )


# --- Drill-down: the relationships behind a figure ---------------------------------------------


HEALTH_FIGURES = {
    health_rules.ON_TRACK: "Active relationships on track",
    health_rules.NEEDS_ATTENTION: "Active relationships that need attention",
    health_rules.AT_RISK: "Active relationships at risk",
}
DRILL_FIGURES = {
    "all": "All relationships",
    "matched": "All relationships",
    "active": "Active relationships",
    "completed": "Relationships completed with their goals achieved or partly achieved",
    "ended_early": "Relationships that ended early",
    "signed": "Relationships whose agreement everyone signed",
    "unsigned": "Relationships whose agreement is not signed by everyone",
    "no_check_in": "Active relationships with no check-in yet",
    "goals_behind": "Relationships with a goal at risk or past its target date",
    "no_goals": "Relationships with no goal yet",
    **HEALTH_FIGURES,
}
STAGE_FIGURE = "answered-"  # + a survey stage
MONTH_FIGURE = "met-"  # + YYYY-MM
GOAL_FIGURE = "goal-"  # + a goal status


def drill_figure_label(figure: str) -> str | None:
    """What the figure counts, in words; None for a figure this page does not know."""
    if figure in DRILL_FIGURES:
        return DRILL_FIGURES[figure]
    if figure.startswith(STAGE_FIGURE):
        stage = figure.removeprefix(STAGE_FIGURE)
        if stage in SurveyResponse.Stage.values:
            return f"Relationships where someone answered the {stage} survey"
    if figure.startswith(MONTH_FIGURE):
        month = _parse_month(figure.removeprefix(MONTH_FIGURE))
        if month is not None:
            return f"Relationships that logged a check-in in {month:%B %Y}"
    if figure.startswith(GOAL_FIGURE):
        status = figure.removeprefix(GOAL_FIGURE)
        if status in Goal.Status.values:
            label = str(dict(Goal.Status.choices)[status]).lower()
            return f"Relationships with a goal {label}"
    return None


def _parse_month(text: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(text, "%Y-%m").replace(tzinfo=dt.UTC).date()
    except ValueError:
        return None


def drill_relationships(
    *, cohort_ids: Sequence[int], filters: Filters, figure: str, figures: Figures | None
) -> QuerySet[Relationship]:
    """The relationships behind `figure` (a key drill_figure_label knows), ordered for the
    list. Health figures come from the dashboard's own (cached) judgement, so the list holds
    exactly the relationships the figure counted."""
    relationships = relationship_list_in_view(cohort_ids=cohort_ids, filters=filters)
    active = Q(status=Relationship.Status.ACTIVE)
    if figure in HEALTH_FIGURES:
        ids = figures.health_ids.get(figure, ()) if figures is not None else ()
        relationships = relationships.filter(pk__in=list(ids))
    elif figure == "active":
        relationships = relationships.filter(active)
    elif figure == "completed":
        relationships = relationships.filter(
            status=Relationship.Status.ENDED, outcome__in=COMPLETED_OUTCOMES
        )
    elif figure == "ended_early":
        relationships = relationships.filter(status=Relationship.Status.ENDED).exclude(
            outcome__in=COMPLETED_OUTCOMES
        )
    elif figure in ("signed", "unsigned"):
        unsigned = RelationshipMember.objects.filter(relationship_id=OuterRef("pk")).exclude(
            Exists(
                AgreementSignature.objects.filter(
                    member_id=OuterRef("pk"), version=F("agreement__version")
                )
            )
        )
        signed = Q(Exists(Agreement.objects.filter(relationship_id=OuterRef("pk")))) & ~Q(
            Exists(unsigned)
        )
        relationships = relationships.filter(signed if figure == "signed" else ~signed)
    elif figure == "no_check_in":
        relationships = relationships.filter(active).exclude(
            Exists(CheckIn.objects.filter(relationship_id=OuterRef("pk")))
        )
    elif figure == "goals_behind":
        relationships = relationships.filter(
            Exists(
                Goal.objects.filter(relationship_id=OuterRef("pk"))
                .filter(OPEN_GOAL)
                .filter(Q(status=Goal.Status.AT_RISK) | Q(target_date__lt=timezone.localdate()))
            )
        )
    elif figure == "no_goals":
        relationships = relationships.exclude(
            Exists(Goal.objects.filter(relationship_id=OuterRef("pk")))
        )
    elif figure.startswith(STAGE_FIGURE):
        relationships = relationships.filter(
            Exists(
                SurveyResponse.objects.filter(
                    relationship_id=OuterRef("pk"), stage=figure.removeprefix(STAGE_FIGURE)
                )
            )
        )
    elif figure.startswith(GOAL_FIGURE):
        relationships = relationships.filter(
            Exists(
                Goal.objects.filter(
                    relationship_id=OuterRef("pk"), status=figure.removeprefix(GOAL_FIGURE)
                )
            )
        )
    elif figure.startswith(MONTH_FIGURE):
        month = _parse_month(figure.removeprefix(MONTH_FIGURE))
        if month is not None:
            relationships = relationships.filter(
                Exists(
                    CheckIn.objects.filter(
                        relationship_id=OuterRef("pk"),
                        met_on__gte=month,
                        met_on__lt=_add_months(month, 1),
                    )
                )
            )
    return relationships.order_by("status", "-started_at", "-pk")


@dataclass(frozen=True)
class DrillRow:
    """One relationship's activity, as the drill-down shows it: never what anyone wrote."""

    relationship: Relationship
    members: tuple[tuple[str, str], ...]  # (name, role label)
    health: Health | None  # active relationships only
    reasons: tuple[str, ...]
    check_ins: int
    last_check_in_on: dt.date | None
    goals: int
    goals_done: int
    progress: int | None  # average of open goals
    signed: bool
    nudged_today: bool


def drill_rows(*, relationships: Iterable[Relationship]) -> list[DrillRow]:
    """A page of the drill-down: its relationships' activity in one query, their members in
    one more, and the health of the active ones in health_for's fixed number."""
    ids = [r.pk for r in relationships]
    today = timezone.localdate()
    unsigned = RelationshipMember.objects.filter(relationship_id=OuterRef("pk")).exclude(
        Exists(
            AgreementSignature.objects.filter(
                member_id=OuterRef("pk"), version=F("agreement__version")
            )
        )
    )

    def count(queryset: QuerySet[Any]) -> Subquery:
        return Subquery(
            queryset.values("relationship_id").order_by().annotate(n=Count("pk")).values("n")[:1]
        )

    rows = {
        r.pk: r
        for r in Relationship.objects.filter(pk__in=ids)
        .select_related("cohort__program")
        .annotate(
            check_in_count=Coalesce(
                count(CheckIn.objects.filter(relationship_id=OuterRef("pk"))), 0
            ),
            last_check_in_on=Subquery(
                CheckIn.objects.filter(relationship_id=OuterRef("pk"))
                .order_by("-met_on")
                .values("met_on")[:1]
            ),
            goal_count=Coalesce(count(Goal.objects.filter(relationship_id=OuterRef("pk"))), 0),
            goals_done=Coalesce(
                count(Goal.objects.filter(relationship_id=OuterRef("pk"), status=Goal.Status.DONE)),
                0,
            ),
            progress=Subquery(
                Goal.objects.filter(relationship_id=OuterRef("pk"))
                .filter(OPEN_GOAL)
                .values("relationship_id")
                .order_by()
                .annotate(p=Cast(Sum("progress"), FloatField()) / Count("pk"))
                .values("p")[:1],
                output_field=FloatField(),
            ),
            signed=Exists(Agreement.objects.filter(relationship_id=OuterRef("pk")))
            & ~Exists(unsigned),
            nudged=Exists(Nudge.objects.filter(relationship_id=OuterRef("pk"), day=today)),
        )
    }
    members: dict[int, list[tuple[str, str]]] = defaultdict(list)
    role_label = dict(RelationshipMember.Role.choices)
    for relationship_id, role, name, email in (
        RelationshipMember.objects.filter(relationship_id__in=ids)
        .order_by("relationship_id", "-role", "pk")
        .values_list(
            "relationship_id", "role", "enrolment__user__display_name", "enrolment__user__email"
        )
    ):
        members[relationship_id].append((name or email, str(role_label[role])))
    active: list[Relationship] = [
        rows[pk] for pk in ids if rows[pk].status == Relationship.Status.ACTIVE
    ]
    health = health_for(relationships=active, today=today)
    result = []
    for pk in ids:
        r: Any = rows[pk]
        judged = health.get(pk)
        result.append(
            DrillRow(
                relationship=r,
                members=tuple(members[pk]),
                health=judged,
                reasons=reasons_for_coordinator(judged.reasons) if judged else (),
                check_ins=r.check_in_count,
                last_check_in_on=r.last_check_in_on,
                goals=r.goal_count,
                goals_done=r.goals_done,
                progress=round(r.progress) if r.progress is not None else None,
                signed=bool(r.signed),
                nudged_today=bool(r.nudged),
            )
        )
    return result
