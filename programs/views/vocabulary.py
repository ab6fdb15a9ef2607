"""The shared vocabulary: suggestions while people type, and the review page where people with
the `programs.change_competency` permission approve new terms and merge duplicates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.forms import form_add_service_error
from common.http import AuthenticatedHttpRequest
from programs import selectors, services
from programs.forms.participation import (
    CompetencyFilterForm,
    CompetencyMergeForm,
)
from programs.models import Competency
from programs.selectors import CompetencyUses, can_manage_vocabulary, competency_list_for_review

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

PAGE_SIZE = 50
QUERY_MAX_LENGTH = 100


def _require_vocabulary_manager(request: AuthenticatedHttpRequest) -> None:
    if not can_manage_vocabulary(user=request.user):
        raise PermissionDenied


def _next_url(request: HttpRequest) -> str:
    """The review list a form was posted from (filters and page included), if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _back_to_review(request: HttpRequest) -> HttpResponse:
    return redirect(_next_url(request) or reverse("programs:competency_review"))


@login_required
@require_GET
def competency_suggest(request: AuthenticatedHttpRequest) -> JsonResponse:
    query = request.GET.get("q", "")[:QUERY_MAX_LENGTH]
    return JsonResponse({"results": selectors.competency_suggest(query=query)})


@login_required
@require_GET
def competency_review(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_vocabulary_manager(request)
    filters = CompetencyFilterForm(request.GET or None)
    status = search = ""
    if filters.is_valid():
        status = filters.cleaned_data["status"]
        search = filters.cleaned_data["q"].strip()
    page = Paginator(competency_list_for_review(status=status, search=search), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "programs/competency_review.html",
        {
            "filters": filters,
            "page": page,
            "is_filtered": bool(status or search),
            "filter_query": query.urlencode(),
            "suggested_count": competency_list_for_review(
                status=Competency.Status.SUGGESTED
            ).count(),
        },
    )


@login_required
@require_POST
def competency_approve(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _require_vocabulary_manager(request)
    competency = get_object_or_404(competency_list_for_review(), pk=pk)
    services.competency_approve(competency=competency)
    messages.success(request, f"“{competency.name}” is approved.")
    return _back_to_review(request)


@login_required
@require_http_methods(["GET", "POST"])
def competency_merge(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """GET: a page to merge one term. POST (from that page or the review list): merge, or show
    what is wrong on this page."""
    _require_vocabulary_manager(request)
    # Annotated by hand: django-stubs' get_object_or_404 drops the annotation's fields.
    source: WithAnnotations[Competency, CompetencyUses] = get_object_or_404(
        competency_list_for_review(), pk=pk
    )
    form = CompetencyMergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        target = form.cleaned_data["target"]
        source_name, uses = source.name, source.uses
        try:
            services.competency_merge(source=source, target=target)
        except ValidationError as error:
            form_add_service_error(form, error)
        else:
            messages.success(
                request,
                f"“{source_name}” merged into “{target.name}”; "
                f"{uses} use{'' if uses == 1 else 's'} moved.",
            )
            return _back_to_review(request)
    return render(
        request,
        "programs/competency_merge.html",
        {"competency": source, "form": form, "next_url": _next_url(request)},
    )
