"""The cohort, program and organisation dashboards, the drill-down behind their figures and the
nudge. Views only check who may look, read the filters and draw: the figures come from
reports.selectors.dashboard, the nudge from reports.services.

Who sees what: a cohort's and a program's dashboards, their drill-down and the nudge are for the
program's coordinators (and admins); anyone else gets a 404, as on every coordinator page. The
organisation view is for program creators and admins (others get a 403, as creating a program
does); the names behind its figures only for admins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from common.forms import service_error_text
from common.http import AuthenticatedHttpRequest
from goals import health as health_rules
from goals.models import Goal
from goals.selectors import MIN_ANSWERS_SHOWN
from matching.models import Relationship
from programs.selectors import cohort_list_visible_to
from reports import services
from reports.charts import (
    BarItem,
    ColumnItem,
    Series,
    column_chart,
    hbar_chart,
    line_chart,
)
from reports.selectors import dashboard as selectors
from reports.selectors.dashboard import Figures, Filters, Scope, Summary

DRILL_PAGE_SIZE = 25
HEALTH_TONES = {
    health_rules.ON_TRACK: "success",
    health_rules.NEEDS_ATTENTION: "warning",
    health_rules.AT_RISK: "danger",
}


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


@dataclass(frozen=True)
class Links:
    """Where a dashboard's figures lead: its drill-down (None: no names behind them here) and,
    per cohort or program, its own dashboard."""

    drill: str | None
    filters: Filters

    def figure(self, key: str, **extra: str) -> str:
        if self.drill is None:
            return ""
        return f"{self.drill}?{urlencode({**self.filters.as_params(), **extra, 'figure': key})}"


# --- Charts from figures --------------------------------------------------------------------------


def funnel_chart(summary: Summary, links: Links) -> Any:
    relationship_figure = {"matched": "matched", "active": "active", "completed": "completed"}
    return hbar_chart(
        [
            BarItem(
                label=stage.label,
                value=stage.count,
                display=f"{stage.count:,}"
                + (f" ({_percent(stage.share)})" if stage.key != "invited" else ""),
                href=links.figure(relationship_figure[stage.key])
                if stage.key in relationship_figure
                else "",
                note=selectors.FUNNEL_EXPLAINED[stage.key],
            )
            for stage in summary.funnel
        ]
    )


def health_chart(summary: Summary, links: Links) -> Any:
    return hbar_chart(
        [
            BarItem(
                label=label,
                value=summary.health[status],
                display=f"{summary.health[status]:,}",
                href=links.figure(status),
                tone=HEALTH_TONES[status],
            )
            for status, label in health_rules.LABELS.items()
        ]
    )


GOAL_STATUSES = (
    (Goal.Status.NOT_STARTED, "not_started", "neutral"),
    (Goal.Status.ON_TRACK, "on_track", "accent"),
    (Goal.Status.AT_RISK, "at_risk", "warning"),
    (Goal.Status.DONE, "done", "success"),
    (Goal.Status.DROPPED, "dropped", "neutral"),
)


def goals_chart(summary: Summary, links: Links) -> Any:
    labels = dict(Goal.Status.choices)
    return hbar_chart(
        [
            BarItem(
                label=str(labels[status]),
                value=getattr(summary.goals, attribute),
                display=f"{getattr(summary.goals, attribute):,}",
                href=links.figure(f"goal-{status}"),
                tone=tone,
            )
            for status, attribute, tone in GOAL_STATUSES
        ]
    )


def agreements_chart(summary: Summary, links: Links) -> Any:
    unsigned = summary.relationships - summary.signed
    return hbar_chart(
        [
            BarItem(
                label="Signed by everyone",
                value=summary.signed,
                display=f"{summary.signed:,}",
                href=links.figure("signed"),
                tone="success",
            ),
            BarItem(
                label="Not signed by everyone",
                value=unsigned,
                display=f"{unsigned:,}",
                href=links.figure("unsigned"),
                tone="warning",
            ),
        ]
    )


def check_ins_chart(figures: Figures, links: Links) -> Any:
    return column_chart(
        [
            ColumnItem(
                label=f"{m.month:%b}" + ("*" if m.partial else ""),
                value=m.per_relationship,
                display="—" if m.per_relationship is None else f"{m.per_relationship:.2f}",
                expected=m.expected,
                href=links.figure(f"{selectors.MONTH_FIGURE}{m.key}") if m.check_ins else "",
            )
            for m in figures.months
        ]
    )


def feedback_chart(figures: Figures, links: Links) -> Any:
    items = []
    for question in figures.questions:
        released = question.released
        if released.average is None:
            display = f"shown once {MIN_ANSWERS_SHOWN} people answer ({released.answered} so far)"
        else:
            display = f"{released.average:.1f} of 5 ({released.answered} people)"
        items.append(
            BarItem(
                label=f"{question.stage_label}: {question.text}",
                value=released.average,
                display=display,
                href=links.figure(f"{selectors.STAGE_FIGURE}{question.stage}")
                if released.average is not None
                else "",
                tone="accent" if not question.is_recommend else "success",
            )
        )
    return hbar_chart(items, maximum=5, width=760, label_width=360, value_width=190)


def cohort_compare_chart(figures: Figures, links: Links) -> Any:
    del links
    shown = figures.series[-selectors.SERIES_SHOWN :]
    return line_chart(
        [f"M{n + 1}" for n in range(figures.series_length)],
        [Series(label=s.cohort.name, values=s.values) for s in shown],
    )


def share_chart(rows: list[tuple[str, Summary, str]], attribute: str) -> Any:
    """One bar per cohort or program: a share (0..1) of its summary (their own dashboards are
    linked from the table beside it)."""
    return hbar_chart(
        [
            BarItem(
                label=label,
                value=getattr(summary, attribute),
                display=_percent(getattr(summary, attribute)),
            )
            for label, summary, _ in rows
        ],
        maximum=1,
    )


# --- The pages ------------------------------------------------------------------------------------


def _dashboard_context(
    request: AuthenticatedHttpRequest,
    *,
    scope: Scope,
    offer_cohort: bool,
    offer_kind: bool,
    drill_url: str | None,
) -> dict[str, Any]:
    options = selectors.filter_options(
        scope=scope, offer_cohort=offer_cohort, offer_kind=offer_kind
    )
    filters, notices = selectors.filters_read(params=request.GET, options=options)
    problem = selectors.filters_problem(scope=scope, filters=filters)
    context: dict[str, Any] = {
        "scope": scope,
        "options": options,
        "filters": filters,
        "notices": notices,
        "problem": problem,
        "figures": None,
        "min_answers": MIN_ANSWERS_SHOWN,
        "page_query": filters.query,
        # The shared body is drawn once per set of figures (it names computed_at in its key).
        "fragment_seconds": selectors.figures_kept_seconds(),
    }
    if problem or not scope.cohorts:
        return context
    figures = selectors.dashboard_figures(scope=scope, filters=filters)
    links = Links(drill=drill_url, filters=filters)
    total = figures.total
    context.update(
        figures=figures,
        total=total,
        links=links,
        funnel_chart=funnel_chart(total, links),
        health_chart=health_chart(total, links),
        goals_chart=goals_chart(total, links),
        agreements_chart=agreements_chart(total, links),
        check_ins_chart=check_ins_chart(figures, links),
        month_rows=[
            (m, links.figure(f"{selectors.MONTH_FIGURE}{m.key}") if m.check_ins else "")
            for m in figures.months
        ],
        feedback_chart=feedback_chart(figures, links),
        nudged=selectors.nudged_today(relationship_ids=[r.relationship_id for r in figures.at_risk])
        if drill_url
        else set(),
        drill_all=links.figure("all"),
        drill_at_risk=links.figure(health_rules.AT_RISK),
        drill_no_check_in=links.figure("no_check_in"),
        drill_goals_behind=links.figure("goals_behind"),
        drill_completed=links.figure("completed"),
        drill_ended_early=links.figure("ended_early"),
        nobody=total.people == 0 and total.relationships == 0,
    )
    return context


@login_required
@require_GET
def cohort_dashboard(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(selectors.cohort_list_for_dashboards(user=request.user), pk=pk)
    context = _dashboard_context(
        request,
        scope=selectors.scope_for_cohort(cohort=cohort),
        offer_cohort=False,
        offer_kind=False,
        drill_url=reverse("reports:cohort_drilldown", args=[cohort.pk]),
    )
    return render(
        request,
        "reports/dashboard_cohort.html",
        {
            **context,
            "cohort": cohort,
            "program": cohort.program,
            "tab": "dashboard",
            "manages": _manages(request, cohort_ids=[cohort.pk]) == {cohort.pk},
            "show_at_risk": True,
        },
    )


@login_required
@require_GET
def program_dashboard(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_object_or_404(selectors.program_list_for_dashboards(user=request.user), pk=pk)
    scope = selectors.scope_for_program(program=program)
    context = _dashboard_context(
        request,
        scope=scope,
        offer_cohort=True,
        offer_kind=False,
        drill_url=reverse("reports:program_drilldown", args=[program.pk]),
    )
    figures: Figures | None = context["figures"]
    if figures is not None:
        rows = [
            (
                cohort.name,
                summary,
                reverse("reports:cohort_dashboard", args=[cohort.id])
                + (f"?{context['filters'].query}" if context["filters"].filters_people else ""),
            )
            for cohort, summary in figures.by_cohort
        ]
        context.update(
            cohort_rows=rows,
            compare_chart=cohort_compare_chart(figures, context["links"]),
            on_track_chart=share_chart(rows, "share_on_track"),
            matched_chart=share_chart(rows, "share_matched"),
        )
    return render(request, "reports/dashboard_program.html", {**context, "program": program})


@login_required
@require_GET
def organisation_dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not selectors.organisation_view_allowed(user=request.user):
        raise PermissionDenied
    can_drill = selectors.organisation_drill_allowed(user=request.user)
    context = _dashboard_context(
        request,
        scope=selectors.scope_for_organisation(),
        offer_cohort=True,
        offer_kind=True,
        drill_url=reverse("reports:organisation_drilldown") if can_drill else None,
    )
    figures: Figures | None = context["figures"]
    if figures is not None:
        openable = set(
            selectors.program_list_for_dashboards(user=request.user).values_list("pk", flat=True)
        )
        rows = [
            (
                name,
                summary,
                reverse("reports:program_dashboard", args=[program_id])
                if program_id in openable
                else "",
            )
            for program_id, name, summary in figures.by_program
        ]
        context.update(
            program_rows=rows,
            on_track_chart=share_chart(rows, "share_on_track"),
            matched_chart=share_chart(rows, "share_matched"),
        )
    return render(
        request, "reports/dashboard_organisation.html", {**context, "can_drill": can_drill}
    )


# --- Drill-down -----------------------------------------------------------------------------------


def _manages(request: AuthenticatedHttpRequest, *, cohort_ids: list[int]) -> set[int]:
    """Which of these cohorts the viewer coordinates (their pages, people and relationships
    open to them); an admin who does not coordinate sees the dashboards only."""
    if not request.user.is_staff:
        return set(cohort_ids)  # the dashboards' selectors let coordinators see their own only
    return set(
        cohort_list_visible_to(user=request.user)
        .filter(pk__in=cohort_ids)
        .values_list("pk", flat=True)
    )


def _drilldown(
    request: AuthenticatedHttpRequest,
    *,
    scope: Scope,
    offer_cohort: bool,
    offer_kind: bool,
    dashboard_url: str,
    extra: dict[str, Any],
) -> HttpResponse:
    options = selectors.filter_options(
        scope=scope, offer_cohort=offer_cohort, offer_kind=offer_kind
    )
    filters, notices = selectors.filters_read(params=request.GET, options=options)
    figure = request.GET.get("figure", "all")
    label = selectors.drill_figure_label(figure)
    if label is None:
        notices.append(
            f"“{figure[:60]}” is not a figure of this dashboard: showing every relationship."
        )
        figure, label = "all", selectors.DRILL_FIGURES["all"]
    problem = selectors.filters_problem(scope=scope, filters=filters)
    cohort_ids = [c.id for c in selectors.cohorts_in_view(scope=scope, filters=filters)]
    figures = (
        selectors.dashboard_figures(scope=scope, filters=filters)
        if figure in selectors.HEALTH_FIGURES and not problem and cohort_ids
        else None
    )
    relationships = (
        Relationship.objects.none()
        if problem
        else selectors.drill_relationships(
            cohort_ids=cohort_ids, filters=filters, figure=figure, figures=figures
        )
    )
    page = Paginator(relationships.only("pk"), DRILL_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = selectors.drill_rows(relationships=list(page))
    query = {**filters.as_params(), "figure": figure}
    openable = _manages(request, cohort_ids=[c.id for c in scope.cohorts])
    return render(
        request,
        "reports/dashboard_drilldown.html",
        {
            **extra,
            "scope": scope,
            "filters": filters,
            "notices": notices,
            "problem": problem,
            "figure": figure,
            "figure_label": label,
            "page": page,
            "rows": rows,
            "filter_query": urlencode(query),
            "dashboard_url": f"{dashboard_url}?{filters.query}" if filters.query else dashboard_url,
            "openable": openable,
            "manages": "cohort" in extra and extra["cohort"].pk in openable,
            "next_url": request.get_full_path(),
        },
    )


@login_required
@require_GET
def cohort_drilldown(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(selectors.cohort_list_for_dashboards(user=request.user), pk=pk)
    return _drilldown(
        request,
        scope=selectors.scope_for_cohort(cohort=cohort),
        offer_cohort=False,
        offer_kind=False,
        dashboard_url=reverse("reports:cohort_dashboard", args=[cohort.id]),
        extra={"cohort": cohort, "program": cohort.program, "tab": "dashboard"},
    )


@login_required
@require_GET
def program_drilldown(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    program = get_object_or_404(selectors.program_list_for_dashboards(user=request.user), pk=pk)
    return _drilldown(
        request,
        scope=selectors.scope_for_program(program=program),
        offer_cohort=True,
        offer_kind=False,
        dashboard_url=reverse("reports:program_dashboard", args=[program.pk]),
        extra={"program": program},
    )


@login_required
@require_GET
def organisation_drilldown(request: AuthenticatedHttpRequest) -> HttpResponse:
    if not selectors.organisation_drill_allowed(user=request.user):
        raise Http404
    return _drilldown(
        request,
        scope=selectors.scope_for_organisation(),
        offer_cohort=True,
        offer_kind=True,
        dashboard_url=reverse("reports:organisation_dashboard"),
        extra={"organisation": True},
    )


# --- The nudge ------------------------------------------------------------------------------------


def _safe_next(candidate: str, fallback: str) -> str:
    """`candidate` when it is a path on this site, else `fallback`: never an open redirect."""
    if (
        candidate.startswith("/")
        and not candidate.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(candidate, allowed_hosts=None)
    ):
        return candidate
    return fallback


@login_required
@require_POST
def relationship_nudge(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    relationship = get_object_or_404(
        Relationship.objects.filter(
            cohort__in=selectors.cohort_list_for_dashboards(user=request.user)
        ).select_related("cohort__program"),
        pk=pk,
    )
    back = _safe_next(
        request.POST.get("next", ""),
        reverse("reports:cohort_dashboard", args=[relationship.cohort_id]),
    )
    try:
        nudge = services.relationship_nudge(relationship=relationship, nudged_by=request.user)
    except ValidationError as error:
        messages.error(request, service_error_text(error))
    else:
        names = ", ".join(
            m.enrolment.user.display_name
            for m in relationship.members.select_related("enrolment__user").order_by("-role")
        )
        messages.success(
            request,
            services.NUDGE_SENT.format(names=names or "the pair")
            + f" ({nudge.recipients} reminded; they can be nudged again tomorrow.)",
        )
    return redirect(back)
