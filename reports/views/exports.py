"""A cohort's exports, for its coordinators only (anyone else gets a 404): the page that lists
them and the files, CSV or Excel.

A CSV file streams as it is written (StreamingHttpResponse), so the first bytes leave at once
whatever the cohort's size. openpyxl cannot stream a workbook (it is a zip written at the end),
so an XLSX is written row by row, in write-only mode, to a temporary file that is then streamed:
memory stays flat either way. Every text cell goes through `csv_cell`, the import's formula
neutraliser, so nothing a person typed (a name, a department) runs as a formula in a
spreadsheet, in either format."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from common.http import AuthenticatedHttpRequest
from programs.imports import csv_cell
from programs.models import Cohort
from programs.selectors import cohort_list_visible_to
from reports.selectors.exports import EXPORT_TABLES, Cell, ExportTable

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell as SheetCell

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def _cohort_for(request: AuthenticatedHttpRequest, pk: int) -> Cohort:
    return get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)


def _safe(value: Cell) -> Cell:
    """Text neutralised against formulas; numbers stay numbers."""
    return csv_cell(value) if isinstance(value, str) else value


@login_required
@require_GET
def cohort_exports(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_for(request, pk)
    return render(
        request,
        "reports/export_list.html",
        {"cohort": cohort, "program": cohort.program, "tables": EXPORT_TABLES.values()},
    )


class _Echo:
    """A file-like object whose write returns what it was given, so csv.writer produces lines
    for a generator to yield."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(table: ExportTable, cohort: Cohort) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # The byte order mark tells Excel the file is UTF-8, so names keep their accents.
    yield "\ufeff" + writer.writerow(table.header)
    for row in table.rows(cohort):
        yield writer.writerow(["" if v is None else _safe(v) for v in row])


def _xlsx_file(table: ExportTable, cohort: Cohort) -> tempfile.SpooledTemporaryFile[bytes]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(table.title)

    def cells(values: Iterable[Cell]) -> list[SheetCell]:
        row = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=_safe(value))
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it starts with
            row.append(cell)
        return row

    sheet.append(cells(table.header))
    for values in table.rows(cohort):
        sheet.append(cells(values))
    # Small files stay in memory; a big one goes to disk instead of filling the worker's RAM.
    output = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (streamed)
    workbook.save(output)
    output.seek(0)
    return output


@login_required
@require_GET
def cohort_export(
    request: AuthenticatedHttpRequest, pk: int, table: str, file_format: str
) -> HttpResponse | StreamingHttpResponse:
    cohort = _cohort_for(request, pk)
    export = EXPORT_TABLES.get(table)
    if export is None or file_format not in FORMATS:
        raise Http404("No such export.")
    filename = f"{slugify(cohort.name) or 'cohort'}-{export.slug}.{file_format}"
    if file_format == "csv":
        response: HttpResponse | StreamingHttpResponse = StreamingHttpResponse(
            _csv_lines(export, cohort), content_type="text/csv; charset=utf-8"
        )
    else:
        response = FileResponse(_xlsx_file(export, cohort), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
