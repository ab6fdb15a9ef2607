"""Reads for a coordinator's matching pages: the pre-match check, runs and their results.
Coordinators reach runs only through `match_run_list_visible_to`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from django.core.paginator import Page
from django.db.models import Count, Q, QuerySet

from accounts.models import User
from matching.engine.api import Prematch, prematch
from matching.models import MatchRun, Proposal, UnmatchedResult
from programs.models import Cohort, Enrolment

from .engine_input import NO_RELAXATION, Relaxation, match_settings_for, run_people


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


def proposal_page_with_people(*, proposals: QuerySet[Proposal], page: Page) -> QuerySet[Proposal]:
    """One page of `proposals` (proposal_list_for_run, paginated), joined to their people in
    one query. The page is cut on the bare proposal rows and only then joined: sorting the join
    of every proposal of a 1,000-pair run was most of the run page's SQL."""
    return proposals.filter(pk__in=cast(QuerySet[Proposal], page.object_list).values("pk"))


def unmatched_list_for_run(*, run: MatchRun) -> QuerySet[UnmatchedResult]:
    return run.unmatched.select_related("enrolment__user").order_by("reason_code", "pk")


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
