"""Reports, end to end in chromium on the demo data: the coordinator goes from their home page
to the running Pilot cohort, downloads its relationships as CSV, opens the close-out report
and downloads it as PDF."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from accounts.models import User
from core.demo import DEMO_PASSWORD
from matching.models import Relationship
from programs.models import Cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_exports_a_cohort_as_csv_and_downloads_its_close_out_report_as_pdf(
    page: Page, live_server, sign_in, tmp_path
):
    call_command("seed_demo")
    cohort = Cohort.objects.get(program__name="Leadership Mentoring", name="Pilot")
    relationships = Relationship.objects.filter(cohort=cohort).count()
    assert relationships

    sign_in("coordinator@demo.mentorship.test", password=DEMO_PASSWORD)
    page.get_by_role("link", name="Pilot").first.click()  # the home card's cohort is a link
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pilot")
    page.get_by_role("link", name="Exports: relationships, check-ins, feedback").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Exports of Pilot")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Relationships as CSV").click()
    download = download_info.value
    assert download.suggested_filename == "pilot-relationships.csv"
    path = tmp_path / "relationships.csv"
    download.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["Relationship", "Kind", "Status"]
    assert len(rows) == relationships + 1
    demo_mentee = User.objects.get(email="mentee@demo.mentorship.test").display_name
    assert demo_mentee in {row[4] for row in rows[1:]}  # the "Mentees or peers" column

    page.get_by_role("link", name="Close-out report").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Close-out report: Leadership Mentoring, Pilot"
    )
    expect(page.get_by_role("heading", name="Leadership pipeline")).to_be_visible()
    expect(page.get_by_role("button", name="Print")).to_be_visible()

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    pdf = download_info.value
    assert pdf.suggested_filename == "leadership-mentoring-pilot-close-out.pdf"
    pdf_path = tmp_path / "report.pdf"
    pdf.save_as(pdf_path)
    assert pdf_path.read_bytes().startswith(b"%PDF-")
