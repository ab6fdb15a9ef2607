"""The participant's own enrolment page (`programs:my_enrolment`). Most of it is the programs
app's (`my_enrolment_context`); this app adds who the participant is matched with and what they
can do about it. The view lives here because matching builds on programs, never the reverse,
and `mentorship/urls.py` keeps it at its programs URL and name."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from common.http import AuthenticatedHttpRequest
from matching.selectors import participation_summary
from programs.selectors import enrolment_list_visible_to_participant
from programs.views.participation import my_enrolment_context


@login_required
def my_enrolment(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    enrolment = get_object_or_404(enrolment_list_visible_to_participant(user=request.user), pk=pk)
    context = my_enrolment_context(request, enrolment)
    context["participation"] = participation_summary(enrolment=enrolment)
    return render(request, "programs/my_enrolment_detail.html", context)
