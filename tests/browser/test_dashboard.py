"""The coordinator's insight journey, end to end in chromium on the demo data: the coordinator
opens the running cohort's dashboard from its page, reads its charts, filters by a department,
drills into a pair at risk and nudges it (the pair is reminded, once), then exports the
cohort's relationships as CSV and downloads its close-out report as PDF."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import quote_plus

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from core.demo import DEMO_PASSWORD
from matching.models import RelationshipMember
from notifications.models import Notification
from programs.models import Cohort
from reports.models import Nudge
from reports.selectors.dashboard import Filters, dashboard_figures, scope_for_cohort

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_takes_a_coordinator_from_the_dashboard_to_a_nudged_pair_an_export_and_a_report(
    page: Page, live_server, sign_in, tmp_path
):
    call_command("seed_demo")
    cohort = Cohort.objects.select_related("program").get(name="Pilot")
    figures = dashboard_figures(scope=scope_for_cohort(cohort=cohort), filters=Filters())
    at_risk = figures.at_risk[0]
    mentee = RelationshipMember.objects.select_related("enrolment__user__profile").get(
        relationship_id=at_risk.relationship_id, role="mentee"
    )
    mentee_name = mentee.enrolment.user.display_name
    department = mentee.enrolment.user.profile.department

    sign_in("coordinator@demo.mentorship.test", password=DEMO_PASSWORD)
    page.goto(f"{live_server.url}/cohorts/{cohort.pk}/")
    tabs = page.get_by_role("navigation", name="Cohort pages")
    tabs.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pilot")
    expect(page.get_by_role("img", name=re.compile("Enrolment funnel"))).to_be_visible()
    page.get_by_text("The data: health of active relationships").click()
    expect(page.get_by_role("row", name=re.compile("At risk"))).to_be_visible()

    page.get_by_label("Department").select_option(department)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(re.escape(f"department={quote_plus(department)}")))
    expect(page.get_by_label("Department")).to_have_value(department)
    at_risk_list = page.locator("#at-risk-title").locator("xpath=ancestor::section")
    expect(at_risk_list).to_contain_text(mentee_name)

    at_risk_list.get_by_role("link", name=re.compile("^See all")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Active relationships at risk")
    row = page.get_by_role("row", name=re.compile(re.escape(mentee_name)))
    expect(row).to_contain_text("At risk")
    row.get_by_role("button", name=re.compile("^Nudge")).click()

    expect(
        page.get_by_text(re.compile(f"Reminder sent to .*{re.escape(mentee_name)}"))
    ).to_be_visible()
    row = page.get_by_role("row", name=re.compile(re.escape(mentee_name)))
    expect(row).to_contain_text("Nudged today")
    expect(row.get_by_role("button", name=re.compile("^Nudge"))).to_have_count(0)
    assert Nudge.objects.filter(relationship_id=at_risk.relationship_id).count() == 1
    reminded = Notification.objects.filter(
        kind=Notification.Kind.CHECK_IN_OVERDUE, key__contains="nudge-"
    )
    assert set(reminded.values_list("recipient__display_name", flat=True)) >= {mentee_name}

    # From the cohort's page: its relationships as CSV, then the close-out report as PDF.
    page.goto(f"{live_server.url}/cohorts/{cohort.pk}/")
    page.get_by_role("link", name="Exports: relationships, check-ins, feedback").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Relationships as CSV").click()
    exported = tmp_path / "relationships.csv"
    download_info.value.save_as(exported)
    rows = list(csv.reader(io.StringIO(exported.read_text(encoding="utf-8-sig"))))
    assert mentee_name in {row[4] for row in rows[1:]}  # the "Mentees or peers" column

    page.get_by_role("link", name="Close-out report").first.click()
    expect(page.get_by_role("heading", name="Leadership pipeline")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download PDF").click()
    report = tmp_path / "report.pdf"
    download_info.value.save_as(report)
    assert report.read_bytes().startswith(b"%PDF-")
