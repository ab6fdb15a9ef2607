"""The cohort close-out report, for the program's coordinators only (anyone else gets a 404):
as a page that prints cleanly (a print stylesheet hides the site's menus) and as a PDF.

The PDF is drawn by WeasyPrint from the same report body as the page. WeasyPrint needs the
Pango library at run time; it is imported only when a PDF is asked for, so a machine without
Pango serves everything else, and the PDF link there sends the coordinator back to the page
with a message pointing to the print button, never an error page."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from common.http import AuthenticatedHttpRequest
from goals.models import ReadinessRating
from programs.models import Cohort
from programs.selectors import cohort_list_visible_to
from reports.selectors.closeout import CloseoutReport, closeout_report_for

logger = logging.getLogger(__name__)

PDF_UNAVAILABLE = (
    "The PDF cannot be made on this server just now. Use the Print button on this page and "
    "choose “Save as PDF”: the printout leaves out the site's menus."
)


class PdfUnavailableError(Exception):
    """WeasyPrint or the system libraries it loads (Pango) are missing."""


def _cohort_for(request: AuthenticatedHttpRequest, pk: int) -> Cohort:
    return get_object_or_404(cohort_list_visible_to(user=request.user), pk=pk)


def _context(report: CloseoutReport) -> dict[str, object]:
    return {
        "report": report,
        "cohort": report.cohort,
        "program": report.cohort.program,
        "readiness_readers": ReadinessRating.READERS,
    }


@login_required
@require_GET
def closeout_report(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_for(request, pk)
    report = closeout_report_for(cohort=cohort)
    return render(request, "reports/closeout_report.html", _context(report))


def closeout_document_html(*, report: CloseoutReport) -> str:
    """The standalone HTML the PDF is drawn from: the report's body and its own print styles,
    nothing fetched from elsewhere."""
    return render_to_string("reports/closeout_document.html", _context(report))


def _no_fetching(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    # The document carries everything inline; a reference to anything else is not followed.
    raise ValueError(f"The close-out PDF loads nothing from outside ({url}).")


def pdf_from_html(html: str) -> bytes:
    try:
        # Imported here: it loads Pango, which a machine may lack; nothing else needs it.
        import weasyprint
    except (ImportError, OSError) as error:
        logger.warning("close-out PDF unavailable: %s", error)
        raise PdfUnavailableError from error
    document: bytes = weasyprint.HTML(string=html, url_fetcher=_no_fetching).write_pdf()
    return document


@login_required
@require_GET
def closeout_pdf(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    cohort = _cohort_for(request, pk)
    report = closeout_report_for(cohort=cohort)
    try:
        pdf = pdf_from_html(closeout_document_html(report=report))
    except PdfUnavailableError:
        messages.warning(request, PDF_UNAVAILABLE)
        return redirect("reports:closeout", pk=cohort.pk)
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"{slugify(cohort.program.name)}-{slugify(cohort.name) or 'cohort'}-close-out.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
