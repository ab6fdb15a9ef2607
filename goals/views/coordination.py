"""What a program's coordinators see of the relationships in a cohort: survey feedback in
aggregate only (nothing shown below three answers, so no one's answer can be picked out) and
how many relationships are on track. Never a private note or a reflection."""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from goals import selectors
from goals.health import LABELS
from goals.models import SurveyResponse
from matching.models import Relationship
from programs.selectors import cohort_list_visible_to


@login_required
@require_GET
def cohort_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)
    aggregates = selectors.feedback_aggregates_for_cohort(cohort=cohort)
    stages = [
        (label, [a for a in aggregates if a.stage == value])
        for value, label in SurveyResponse.Stage.choices
    ]
    active = list(
        cohort.relationships.filter(status=Relationship.Status.ACTIVE).select_related(
            "cohort__program"
        )
    )
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
