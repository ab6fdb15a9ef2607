"""Announcements: a coordinator writes to a cohort, or one role in it, confirms who will read it,
and follows delivery; each recipient reads it from their notification.

Cohorts and announcements are fetched through scoped selectors, so anyone but the program's
coordinators gets a 404 on the coordinator pages, and anyone the announcement was not written to
gets a 404 on it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from common.forms import form_add_service_error
from common.http import AuthenticatedHttpRequest
from programs import services
from programs.forms.announcements import AnnouncementForm
from programs.models import Cohort
from programs.selectors import (
    announcement_list_coordinated_by,
    announcement_list_for_cohort,
    announcement_list_visible_to,
    announcement_recipient_list,
    cohort_list_visible_to,
)

PAGE_SIZE = 25


def _cohort_for(request: AuthenticatedHttpRequest, pk: int) -> Cohort:
    return get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)


def _list_page(
    request: AuthenticatedHttpRequest, cohort: Cohort, form: AnnouncementForm, status: int = 200
) -> HttpResponse:
    page = Paginator(announcement_list_for_cohort(cohort=cohort), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "programs/announcement_list.html",
        {"cohort": cohort, "program": cohort.program, "form": form, "page": page},
        status=status,
    )


@login_required
@require_GET
def announcement_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The cohort's announcements so far, and the form to write a new one."""
    cohort = _cohort_for(request, pk)
    return _list_page(request, cohort, AnnouncementForm(cohort=cohort))


@login_required
@require_POST
def announcement_create(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Two steps on one address: the form's POST shows who will read it and how many they are;
    the confirmation's POST (with `confirm`) sends. "Change" comes back to the filled form."""
    cohort = _cohort_for(request, pk)
    form = AnnouncementForm(request.POST, cohort=cohort)
    if not form.is_valid() or "edit" in request.POST:
        return _list_page(request, cohort, form, status=200 if form.is_valid() else 400)
    if "confirm" not in request.POST:
        recipients = announcement_recipient_list(cohort=cohort, role=form.cleaned_data["role"])
        return render(
            request,
            "programs/announcement_confirm.html",
            {
                "cohort": cohort,
                "program": cohort.program,
                "form": form,
                "audience": form.audience(),
                "recipient_count": recipients.count(),
            },
        )
    try:
        announcement = services.announcement_create(
            cohort=cohort, created_by=request.user, **form.cleaned_data
        )
    except ValidationError as error:
        form_add_service_error(form, error)
        return _list_page(request, cohort, form, status=400)
    return redirect("programs:announcement_detail", pk=announcement.pk)


@login_required
@require_GET
def announcement_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The announcement as its recipients read it; its coordinators also follow delivery."""
    announcement = get_object_or_404(announcement_list_visible_to(user=request.user), pk=pk)
    is_coordinator = announcement_list_coordinated_by(user=request.user).filter(pk=pk).exists()
    return render(
        request,
        "programs/announcement_detail.html",
        {
            "announcement": announcement,
            "cohort": announcement.cohort,
            "program": announcement.cohort.program,
            "is_coordinator": is_coordinator,
        },
    )


@login_required
@require_GET
def announcement_progress(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The delivery bar alone, for the announcement page to poll until it is sent."""
    announcement = get_object_or_404(announcement_list_coordinated_by(user=request.user), pk=pk)
    return render(request, "programs/announcement_progress.html", {"announcement": announcement})
