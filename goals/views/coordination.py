"""What a program's coordinators see of the relationships in a cohort: the list of them with
each one's health, survey feedback in aggregate only (nothing shown below three answers, so no
one's answer can be picked out) and how many relationships are on track. Never a private note
or a reflection."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET

from common.http import AuthenticatedHttpRequest
from common.urls import url_for_each
from goals import selectors
from goals.health import LABELS
from goals.models import SurveyResponse
from matching import selectors as matching_selectors
from matching.models import Relationship
from programs.selectors import cohort_list_visible_to

PAGE_SIZE = 50


def _day_formatter() -> Callable[[dt.datetime], str]:
    """`{{ moment|date:"j M Y" }}` for a list's rows: the day in the viewer's time zone, each
    day formatted once (a cohort's relationships mostly start within days of each other, and
    the filter costs more than the rest of a row)."""
    days: dict[dt.date, str] = {}

    def day(moment: dt.datetime) -> str:
        local = timezone.localdate(moment)
        if local not in days:
            days[local] = date_format(local, "j M Y")
        return days[local]

    return day


@login_required
@require_GET
def relationship_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The cohort's relationships (matching made them; their health is the relationship's
    life, so the page is here), filtered by status, with those whose mentee needs a new
    mentor."""
    cohort = get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)
    status = request.GET.get("status", "")
    if status not in Relationship.Status.values:
        status = ""
    # With what their health needs beyond their goals and pulses (selectors.health_for).
    relationships = matching_selectors.relationship_list_for_cohort(
        cohort=cohort, status=status
    ).annotate(**selectors.health_annotations())
    counts = matching_selectors.relationship_counts_by_status(cohort=cohort)
    paginator = Paginator(relationships, PAGE_SIZE)
    # The filters' counts say how many there are: the paginator need not count again.
    paginator.count = counts.get(status, 0) if status else sum(counts.values())
    page = paginator.get_page(request.GET.get("page"))
    rows = matching_selectors.relationship_rows(cohort=cohort, relationships=page)
    # Health read once for the whole page.
    health = selectors.health_for(
        relationships=[r for r in page if r.status == Relationship.Status.ACTIVE]
    )
    day = _day_formatter()
    open_url = url_for_each("goals:relationship_home")
    end_url = url_for_each("matching:relationship_end")
    replace_url = url_for_each("matching:relationship_replace")
    return render(
        request,
        "matching/relationship_list.html",
        {
            "cohort": cohort,
            "program": cohort.program,
            "page": page,
            "rows": [
                {
                    "relationship": row.relationship,
                    "health": health.get(row.relationship.pk),
                    "members": row.members,
                    "can_replace": row.can_replace,
                    "score_percent": (
                        round(row.relationship.score * 100)
                        if row.relationship.score is not None
                        else None
                    ),
                    "started_on": day(row.relationship.started_at),
                    "ended_on": day(row.relationship.ended_at) if row.relationship.ended_at else "",
                    "open_url": open_url(row.relationship.pk),
                    "end_url": end_url(row.relationship.pk),
                    "replace_url": replace_url(row.relationship.pk),
                }
                for row in rows
            ],
            "status": status,
            "filters": [
                ("", "All", sum(counts.values())),
                *(
                    (value, label, counts.get(value, 0))
                    for value, label in Relationship.Status.choices
                ),
            ],
            "filter_query": f"status={status}" if status else "",
        },
    )


@login_required
@require_GET
def cohort_feedback(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)
    aggregates = selectors.feedback_aggregates_for_cohort(cohort=cohort)
    stages = [
        (label, [a for a in aggregates if a.stage == value])
        for value, label in SurveyResponse.Stage.choices
    ]
    active = selectors.relationship_list_active_in(cohort=cohort)
    counts = Counter(h.status for h in selectors.health_for(relationships=active).values())
    return render(
        request,
        "goals/cohort_feedback.html",
        {
            "cohort": cohort,
            "program": cohort.program,
            "stages": stages,
            "health_counts": [(status, label, counts[status]) for status, label in LABELS.items()],
            "active_total": len(active),
            "min_answers": selectors.MIN_ANSWERS_SHOWN,
        },
    )
