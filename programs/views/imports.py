"""Coordinator pages for importing participants from a file, in three steps: upload it, check
the column mapping and every row, then import everyone at once (and email them invitations).

Cohorts and imports are fetched through the `*_visible_to` selectors, so anyone but the
program's coordinators gets a 404. The services read, preview and import; these views only
render what they return.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import BoundField
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from accounts.services import ALREADY_SAVED, AlreadySubmittedError
from common.forms import SUBMISSION_TOKEN, service_error_text
from common.http import AuthenticatedHttpRequest
from programs import services
from programs.forms.imports import (
    ImportMappingForm,
    ImportRunForm,
    ImportUploadForm,
    upload_columns_help,
)
from programs.imports import FIELDS, JOB_LEVEL_LABELS, MAX_ROWS, ImportPreview, ParticipantRow
from programs.models import Cohort, Enrolment, ParticipantImport
from programs.selectors import (
    bulk_job_active_for,
    cohort_list_visible_to,
    participant_import_list_for_cohort,
    participant_import_list_visible_to,
)

RECENT_IMPORTS_SHOWN = 5
READY_ROWS_SHOWN = 20
PROBLEM_ROWS_SHOWN = 200
SAMPLES_SHOWN = 2
SAMPLE_ROWS_SCANNED = 10
TERMS_SHOWN = 3

TERM_KINDS = (
    ("offer", "Offers"),
    ("expertise", "Expert in"),
    ("develop", "Develops"),
    ("seek", "Seeks"),
)


def _cohort_for(request: AuthenticatedHttpRequest, pk: int) -> Cohort:
    return get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)


def _import_for(request: AuthenticatedHttpRequest, pk: int) -> ParticipantImport:
    return get_object_or_404(
        participant_import_list_visible_to(user=request.user).select_related("uploaded_by"),
        pk=pk,
    )


# --- Step 1: upload -------------------------------------------------------------------------


@login_required
def import_upload(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_for(request, pk)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            participant_import = services.participant_import_create(
                cohort=cohort,
                uploaded_by=request.user,
                filename=upload.name,
                content=upload.read(),
                submission_token=form.cleaned_data[SUBMISSION_TOKEN],
            )
        except AlreadySubmittedError as first:
            messages.info(request, ALREADY_SAVED)
            return redirect("programs:import_review", pk=first.created.pk)
        except ValidationError as error:
            form.add_error("file", error.messages)
        else:
            rows = len(participant_import.rows)
            messages.success(
                request,
                f"Read {rows:,} row{'s' if rows != 1 else ''} from {participant_import.filename}. "
                "Check the columns and the rows below; nothing is imported until you say so.",
            )
            return redirect("programs:import_review", pk=participant_import.pk)
    recent = participant_import_list_for_cohort(cohort=cohort, limit=RECENT_IMPORTS_SHOWN)
    program = cohort.program
    columns = upload_columns_help(
        roles=services.program_roles(program), default_capacity=program.default_mentor_capacity
    )
    return render(
        request,
        "programs/import_upload.html",
        {
            "cohort": cohort,
            "program": program,
            "form": form,
            "columns": columns,
            "required_labels": [column.label for column in columns if column.required],
            "has_people": cohort.enrolments.exists(),
            "recent_imports": recent,
            "max_rows": MAX_ROWS,
        },
    )


# --- Steps 2 and 3: check, then import ------------------------------------------------------


@dataclass(frozen=True)
class ColumnRow:
    header: str
    samples: list[str]
    field: BoundField  # its select in ImportMappingForm


@dataclass(frozen=True)
class ProblemRow:
    line: int
    who: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ReadyRow:
    row: ParticipantRow
    job_level: str
    terms: list[tuple[str, str]]


def _columns(participant_import: ParticipantImport, form: ImportMappingForm) -> list[ColumnRow]:
    """Each column of the file beside its select, with the first values found under it so the
    coordinator can tell "Name" from "Manager" without opening the file."""
    first_rows = [cells for _, cells in participant_import.rows[:SAMPLE_ROWS_SCANNED]]
    columns = []
    for index, header in enumerate(participant_import.headers):
        values = (cells[index] for cells in first_rows if index < len(cells))
        samples = [value for value in values if value][:SAMPLES_SHOWN]
        columns.append(ColumnRow(header=header, samples=samples, field=form[f"column_{index}"]))
    return columns


def _problem_rows(
    participant_import: ParticipantImport, preview: ImportPreview
) -> list[ProblemRow]:
    """The refused rows, each with who it is as the file writes it, to find it in the file."""
    shown = preview.errors[:PROBLEM_ROWS_SHOWN]
    lines = {error.line for error in shown}
    columns = {name: int(index) for index, name in participant_import.mapping.items()}
    name_columns = [columns[n] for n in ("email", "display_name", "last_name") if n in columns]
    who_by_line = {}
    for line, cells in participant_import.rows:
        if line in lines:
            found = (cells[i] for i in name_columns if i < len(cells) and cells[i])
            who_by_line[line] = next(found, "")
    return [
        ProblemRow(line=error.line, who=who_by_line.get(error.line, ""), reasons=error.reasons)
        for error in shown
    ]


def _ready_rows(preview: ImportPreview) -> list[ReadyRow]:
    ready = []
    for row in preview.rows[:READY_ROWS_SHOWN]:
        terms = []
        for kind, label in TERM_KINDS:
            values = getattr(row, kind)
            if values:
                more = len(values) - TERMS_SHOWN
                text = ", ".join(values[:TERMS_SHOWN]) + (f" +{more}" if more > 0 else "")
                terms.append((label, text))
        ready.append(
            ReadyRow(
                row=row,
                job_level=JOB_LEVEL_LABELS[row.job_level - 1] if row.job_level else "",
                terms=terms,
            )
        )
    return ready


@login_required
def import_review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    participant_import = _import_for(request, pk)
    cohort = participant_import.cohort
    is_imported = participant_import.status == ParticipantImport.Status.IMPORTED
    form = ImportMappingForm(
        request.POST or None,
        headers=participant_import.headers,
        mapping=participant_import.mapping,
    )
    if request.method == "POST":
        if is_imported:
            # The invitations are worked out from the mapping; it stays as it was imported.
            messages.error(request, services.IMPORT_ALREADY_DONE)
        elif not form.is_valid():
            messages.error(request, "Choose a field or “ignore” for each column.")
        else:
            try:
                services.participant_import_set_mapping(
                    participant_import=participant_import, mapping=form.mapping()
                )
            except ValidationError as error:
                messages.error(request, service_error_text(error))
            else:
                messages.success(request, "Columns updated: the rows below are checked again.")
        return redirect("programs:import_review", pk=participant_import.pk)

    context: dict[str, object] = {
        "participant_import": participant_import,
        "cohort": cohort,
        "program": cohort.program,
        "is_imported": is_imported,
    }
    if is_imported:
        context["invited_at"] = participant_import.invited_at
        context["invite_job"] = bulk_job_active_for(key=f"import:{participant_import.pk}:invite")
    else:
        preview = services.participant_import_preview(participant_import=participant_import)
        total_rows = len(participant_import.rows)
        context.update(
            preview=preview,
            form=form,
            columns=_columns(participant_import, form),
            missing_labels=[FIELDS[name].label for name in preview.missing_required],
            total_rows=total_rows,
            # Many bad rows usually mean one wrong column, not many wrong cells.
            mostly_bad=total_rows > 3 and len(preview.errors) * 2 > total_rows,
            problem_rows=_problem_rows(participant_import, preview),
            problems_more=max(0, len(preview.errors) - PROBLEM_ROWS_SHOWN),
            ready_rows=_ready_rows(preview),
            ready_more=max(0, len(preview.rows) - READY_ROWS_SHOWN),
        )
    return render(request, "programs/import_review.html", context)


@login_required
@require_POST
def import_run(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    participant_import = _import_for(request, pk)
    cohort = participant_import.cohort
    form = ImportRunForm(request.POST)
    action = form.cleaned_data["action"] if form.is_valid() else ""
    if action == "invite":
        try:
            job = services.participant_import_invite(
                participant_import=participant_import, invited_by=request.user
            )
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            if job is not None:
                # A worker sends them; a second press lands on the same job.
                return redirect("programs:job_detail", pk=job.pk)
            messages.info(request, "Everyone from this file can already sign in: nobody to invite.")
    elif action == "import":
        try:
            imported = services.participant_import_run(participant_import=participant_import)
        except ValidationError as error:
            messages.error(request, service_error_text(error))
        else:
            _import_report(request, participant_import, imported)
            people = reverse("programs:enrolment_list", args=[cohort.pk])
            return redirect(f"{people}?status={Enrolment.Status.INVITED}")
    else:
        messages.error(request, "Choose to import the file or to email invitations.")
    return redirect("programs:import_review", pk=participant_import.pk)


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _people(count: int) -> str:
    return f"{count:,} {'person' if count == 1 else 'people'}"


def _import_report(
    request: HttpRequest, participant_import: ParticipantImport, result: services.ImportResult
) -> None:
    total = result.enrolled + result.updated
    text = (
        f"Imported {_people(total)}: "
        f"{_plural(result.created_people, 'new account')}, "
        f"{result.enrolled:,} added to the cohort, {result.updated:,} updated."
    )
    if result.created_people:
        # New accounts have no password: until they are invited, nobody can sign in as them.
        messages.success(
            request,
            format_html(
                '{} New people can sign in once invited: <a href="{}">email them invitations</a>.',
                text,
                reverse("programs:import_review", args=[participant_import.pk]),
            ),
        )
    else:
        messages.success(request, text)
