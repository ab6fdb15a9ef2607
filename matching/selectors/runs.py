"""Reads for a coordinator's matching pages: the pre-match check, runs and their results.
Coordinators reach runs only through `match_run_list_visible_to`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Profile, User
from matching.engine.api import Prematch, prematch
from matching.models import MatchRun, Proposal, UnmatchedResult
from programs.models import Cohort, Enrolment

from .engine_input import NO_RELAXATION, Relaxation, match_settings_for, run_people

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def prematch_report(
    *, cohort: Cohort, relax: Relaxation = NO_RELAXATION
) -> tuple[Prematch, dict[int, Enrolment]]:
    """Who the rules leave with nobody, and what relaxing a rule would change; with the
    enrolments by id so a page can name them."""
    people, _ = run_people(cohort=cohort)
    report = prematch(people=people, settings=match_settings_for(cohort=cohort, relax=relax))
    blocked_ids = [u.person_id for u in report.blocked]
    enrolments = cohort.enrolments.select_related("user").in_bulk(blocked_ids)
    return report, enrolments


# --- Runs and results -----------------------------------------------------------------------


def match_run_list_visible_to(*, user: User) -> QuerySet[MatchRun]:
    """Runs of cohorts whose program `user` coordinates."""
    if not user.is_authenticated:
        return MatchRun.objects.none()
    return MatchRun.objects.filter(cohort__program__coordinators=user).select_related(
        "cohort__program", "created_by", "publish_job"
    )


class RunReviewCounts(TypedDict):
    proposed: int
    accepted: int
    rejected: int
    unmatched_total: int


def match_run_list_to_review(*, user: User) -> QuerySet[WithAnnotations[MatchRun, RunReviewCounts]]:
    """`match_run_list_visible_to`, each run with its proposals counted by decision
    (`proposed`, `accepted`, `rejected`) and the people it left unmatched (`unmatched_total`):
    what the run page shows, in the query that reads the run."""

    def counted(rows: QuerySet[Any]) -> Coalesce:
        # A subquery per count: a join to the proposals would group the run's every column.
        count = rows.filter(run=OuterRef("pk")).order_by().values("run").annotate(n=Count("pk"))
        return Coalesce(Subquery(count.values("n")), 0)

    return match_run_list_visible_to(user=user).annotate(
        proposed=counted(Proposal.objects.filter(decision=Proposal.Decision.PROPOSED)),
        accepted=counted(Proposal.objects.filter(decision=Proposal.Decision.ACCEPTED)),
        rejected=counted(Proposal.objects.filter(decision=Proposal.Decision.REJECTED)),
        unmatched_total=counted(UnmatchedResult.objects.all()),
    )


def match_run_list_for_cohort(*, cohort: Cohort) -> QuerySet[MatchRun]:
    # An aggregate drops Meta.ordering, so newest first is said again here.
    return (
        cohort.match_runs.select_related("created_by")
        .annotate(
            accepted=Count("proposals", filter=Q(proposals__decision=Proposal.Decision.ACCEPTED))
        )
        .order_by("-created_at", "-pk")
    )


def proposal_list_for_run(*, run: MatchRun) -> QuerySet[Proposal]:
    return run.proposals.select_related(
        "mentor__user__profile", "mentee__user__profile", "swapped_from__user"
    ).order_by("circle_number", "-score", "pk")


def proposal_list_to_review(*, run: MatchRun) -> QuerySet[Proposal]:
    """The run's proposals in the run page's order, with only what its rows show: no people
    (`proposal_people` names a page's in one query) and no score components. Sorted by the
    index `proposal_run_page_order`, so a page is cut without sorting the run."""
    return run.proposals.only(
        "run_id",
        "mentor_id",
        "mentee_id",
        "circle_number",
        "score",
        "explanation",
        "alternatives",
        "decision",
        "locked",
        "swapped_from_id",
        "score_before_swap",
    ).order_by("circle_number", "-score", "pk")


@dataclass(frozen=True)
class PersonLine:
    """A person as a proposal row names them."""

    name: str  # display name, else email
    details: str  # "Department · Job level", either alone, or ""


def proposal_people(*, proposals: Iterable[Proposal]) -> dict[int, PersonLine]:
    """Everyone a page of `proposal_list_to_review` names, by enrolment id: its mentors,
    mentees, swapped-from mentors and next-best mentors, in one query. Only their names and
    profile lines: a whole enrolment, user and profile for each of a page's ~250 people cost
    more than the rest of the page. A next-best mentor who has left the cohort is missing."""
    ids: set[int] = set()
    for proposal in proposals:
        ids.update((proposal.mentor_id, proposal.mentee_id))
        if proposal.swapped_from_id is not None:
            ids.add(proposal.swapped_from_id)
        ids.update(alt["mentor"] for alt in proposal.alternatives)
    levels: dict[int | None, str] = dict(Profile.JobLevel.choices)
    people = {}
    for pk, display_name, email, department, job_level in (
        Enrolment.objects.filter(pk__in=ids)
        .order_by()
        .values_list(
            "pk",
            "user__display_name",
            "user__email",
            "user__profile__department",
            "user__profile__job_level",
        )
    ):
        # As get_job_level_display: the label, or the value itself when it has none.
        level = levels.get(job_level, job_level or "")
        people[pk] = PersonLine(
            name=display_name or email,
            details=" · ".join(str(part) for part in (department, level) if part),
        )
    return people


@dataclass(frozen=True)
class UnmatchedLine:
    """Someone a run left without a partner, as the run page lists them."""

    name: str  # display name, else email
    role: str  # the role's label
    reason: str


UnmatchedRow = tuple[str, str, str, str]  # display name, email, role, reason


def unmatched_list_for_run(*, run: MatchRun) -> QuerySet[UnmatchedResult, UnmatchedRow]:
    """The people `run` left without a partner, as (display name, email, role, reason): for a
    page of them, `unmatched_lines`."""
    return run.unmatched.order_by("reason_code", "pk").values_list(
        "enrolment__user__display_name", "enrolment__user__email", "enrolment__role", "reason"
    )


def unmatched_lines(rows: Iterable[UnmatchedRow]) -> list[UnmatchedLine]:
    roles = dict(Enrolment.Role.choices)
    return [
        UnmatchedLine(name=display_name or email, role=roles.get(role, role), reason=reason)
        for display_name, email, role, reason in rows
    ]


@dataclass
class RunComparison:
    same: int  # pairs both runs propose
    only_first: list[Proposal]
    only_second: list[Proposal]
    objective_change: float | None
    matched_change: int


def match_run_compare(*, first: MatchRun, second: MatchRun) -> RunComparison:
    def pairs(run: MatchRun) -> dict[tuple[int, int], Proposal]:
        return {(p.mentor_id, p.mentee_id): p for p in proposal_list_for_run(run=run)}

    a, b = pairs(first), pairs(second)
    objective_change = None
    if first.objective_value is not None and second.objective_value is not None:
        objective_change = second.objective_value - first.objective_value
    return RunComparison(
        same=len(a.keys() & b.keys()),
        only_first=[a[k] for k in sorted(a.keys() - b.keys())],
        only_second=[b[k] for k in sorted(b.keys() - a.keys())],
        objective_change=objective_change,
        matched_change=second.matched_count - first.matched_count,
    )
