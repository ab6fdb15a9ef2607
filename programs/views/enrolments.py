"""Coordinator pages for the people in a cohort: the filtered list with bulk status changes,
and the export to CSV or Excel in the shape the import reads."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.services import ALREADY_SAVED, AlreadySubmittedError
from common.forms import service_error_text, submission_token_of
from common.http import AuthenticatedHttpRequest
from programs import services
from programs.forms.coordination import (
    STATUS_ACTIONS,
    EnrolmentBulkStatusForm,
    EnrolmentFilterForm,
)
from programs.imports import csv_cell
from programs.models import Cohort, Enrolment, EnrolmentCompetency
from programs.selectors import (
    EXPORT_COLUMNS,
    cohort_list_visible_to,
    enrolment_export_rows,
    enrolment_list_for_cohort,
)

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell

PER_PAGE = 50
COMPETENCIES_SHOWN = 3
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# What the list shows of each person's competencies: what mentors bring, what mentees want.
SUMMARY_KINDS: dict[str, tuple[str, ...]] = {
    Enrolment.Role.MENTOR: (EnrolmentCompetency.Kind.OFFER, EnrolmentCompetency.Kind.EXPERTISE),
    Enrolment.Role.PEER: (EnrolmentCompetency.Kind.OFFER, EnrolmentCompetency.Kind.EXPERTISE),
    Enrolment.Role.MENTEE: (EnrolmentCompetency.Kind.DEVELOP,),
}


def _cohort_for(request: AuthenticatedHttpRequest, pk: int) -> Cohort:
    return get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)


def _competency_summary(enrolment: Enrolment) -> tuple[list[str], int]:
    """The first few competencies worth showing for this person (already prefetched), and how
    many more there are."""
    kinds = SUMMARY_KINDS.get(enrolment.role, ())
    names = [
        link.competency.name for link in enrolment.competency_links.all() if link.kind in kinds
    ]
    return names[:COMPETENCIES_SHOWN], max(0, len(names) - COMPETENCIES_SHOWN)


@login_required
@require_GET
def enrolment_list(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_for(request, pk)
    roles = services.program_roles(cohort.program)
    filter_form = EnrolmentFilterForm(request.GET or None, roles=roles)
    filters = filter_form.filters()
    page = Paginator(enrolment_list_for_cohort(cohort=cohort, **filters), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = []
    for enrolment in page:
        names, more = _competency_summary(enrolment)
        rows.append(
            {
                "enrolment": enrolment,
                "profile": getattr(enrolment.user, "profile", None),
                "competencies": names,
                "more_competencies": more,
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "programs/enrolment_list.html",
        {
            "cohort": cohort,
            "program": cohort.program,
            "filter_form": filter_form,
            "is_filtered": any(filters.values()),
            "page": page,
            "rows": rows,
            "page_query": query.urlencode(),
            "bulk_form": EnrolmentBulkStatusForm(
                initial={"next": request.get_full_path()}, auto_id="bulk_%s"
            ),
            "show_capacity": bool(roles & {Enrolment.Role.MENTOR, Enrolment.Role.PEER}),
        },
    )


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
def enrolment_bulk_status(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_for(request, pk)
    form = EnrolmentBulkStatusForm(request.POST)
    back = _safe_next(
        request.POST.get("next", ""),
        reverse("programs:enrolment_list", args=[cohort.pk]),
    )
    if not form.is_valid():
        if "ids" in form.errors:
            messages.error(request, str(form.errors["ids"][0]))
        else:
            messages.error(request, "Choose what to do with the selected people.")
        return redirect(back)
    status = form.cleaned_data["status"]
    try:
        result = services.enrolment_set_status(
            cohort=cohort, enrolment_ids=form.cleaned_data["ids"], status=status
        )
    except ValidationError as error:
        messages.error(request, service_error_text(error))
        return redirect(back)
    done = STATUS_ACTIONS[status][1]
    if result.changed:
        people = "person" if result.changed == 1 else "people"
        messages.success(request, f"{result.changed} {people} {done}.")
    elif not result.skipped_withdrawn:
        messages.info(request, f"Nobody changed: everyone selected was already {done}.")
    if result.skipped_withdrawn:
        messages.warning(
            request, services.ENROLMENT_WITHDRAWN_IS_FINAL.format(count=result.skipped_withdrawn)
        )
    return redirect(back)


@login_required
@require_http_methods(["GET", "POST"])
def enrolment_approve_all(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Approve everyone the list's filter (in the query string) matches, every page of it: the
    page states the count and the filter, and confirming queues a job with a progress bar."""
    cohort = _cohort_for(request, pk)
    roles = services.program_roles(cohort.program)
    filter_form = EnrolmentFilterForm(request.GET or None, roles=roles)
    filters = filter_form.filters()
    query = request.GET.copy()
    query.pop("page", None)
    list_url = reverse("programs:enrolment_list", args=[cohort.pk])
    back = f"{list_url}?{query.urlencode()}" if query else list_url
    if request.method == "POST":
        try:
            expected = int(request.POST.get("expected", ""))
        except ValueError:
            expected = None
        try:
            job = services.enrolment_approve_all_start(
                cohort=cohort,
                started_by=request.user,
                **filters,
                expected_count=expected,
                next_url=back,
                submission_token=submission_token_of(request.POST),
            )
        except AlreadySubmittedError as first:
            messages.info(request, ALREADY_SAVED)
            return redirect("programs:job_detail", pk=first.created.pk)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            return redirect("programs:job_detail", pk=job.pk)
    counts = services.enrolment_approve_all_counts(cohort=cohort, **filters)
    shown = []
    if filters["role"]:
        shown.append(("Role", str(Enrolment.Role(filters["role"]).label)))
    if filters["status"]:
        shown.append(("Status", str(Enrolment.Status(filters["status"]).label)))
    if filters["search"]:
        shown.append(("Search", f"“{filters['search']}”"))
    return render(
        request,
        "programs/enrolment_approve_all.html",
        {
            "cohort": cohort,
            "program": cohort.program,
            "counts": counts,
            "to_approve": counts["total"] - counts["approved"] - counts["withdrawn"],
            "filters_shown": shown,
            "back": back,
        },
    )


@login_required
@require_GET
def enrolment_export(request: AuthenticatedHttpRequest, pk: int, file_format: str) -> HttpResponse:
    """Everyone in the cohort as a file the import can read back."""
    cohort = _cohort_for(request, pk)
    if file_format not in ("csv", "xlsx"):
        raise Http404("Export as csv or xlsx.")
    header = [label for _, label in EXPORT_COLUMNS]
    rows = enrolment_export_rows(cohort=cohort)
    filename = f"{slugify(cohort.name) or 'cohort'}-participants.{file_format}"
    if file_format == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        # The byte order mark tells Excel the file is UTF-8, so names keep their accents.
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(header)
        writer.writerows([csv_cell(value) for value in row] for row in rows)
    else:
        response = HttpResponse(content_type=XLSX_CONTENT_TYPE)
        _xlsx_write(response, header, rows)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _xlsx_write(response: HttpResponse, header: list[str], rows: Iterable[list[str]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Participants")

    def cells(values: list[str]) -> list[Cell]:
        row = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            # openpyxl reads a string starting with "=" as a formula; what people typed is text.
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
            row.append(cell)
        return row

    sheet.append(cells(header))
    for values in rows:
        sheet.append(cells(values))
    buffer = io.BytesIO()
    workbook.save(buffer)
    response.write(buffer.getvalue())
