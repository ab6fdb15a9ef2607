"""Following a job over many people (publishing a run, emailing invitations): its page, with a
progress bar that polls itself until the worker is done, then the outcome and where to go next.

Jobs are fetched through a scoped selector: anyone but the program's coordinators gets a 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from common.http import AuthenticatedHttpRequest
from programs.models import BulkJob
from programs.selectors import bulk_job_list_visible_to


def _job_for(request: AuthenticatedHttpRequest, pk: int) -> BulkJob:
    return get_object_or_404(bulk_job_list_visible_to(user=request.user), pk=pk)


@login_required
@require_GET
def job_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    job = _job_for(request, pk)
    return render(
        request,
        "programs/bulkjob_detail.html",
        {"job": job, "cohort": job.cohort, "program": job.cohort.program},
    )


@login_required
@require_GET
def job_progress(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone, for the job's page to poll. Once the job has finished it tells
    htmx to reload the page, which then shows the outcome."""
    job = _job_for(request, pk)
    response = render(request, "programs/bulkjob_progress.html", {"job": job})
    if job.is_finished:
        response["HX-Refresh"] = "true"
    return response
