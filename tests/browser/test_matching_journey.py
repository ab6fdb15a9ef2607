"""Matching, end to end in chromium on the demo cohort: the coordinator opens matching, runs
it and watches the progress, reads an explanation, swaps one pair and publishes; a mentee
then sees their mentor. With self-service on, another mentee asks a mentor, who accepts."""

from __future__ import annotations

import re
from typing import cast

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from core.demo import DEMO_PASSWORD
from matching import services
from matching.models import MatchRun, Relationship
from programs.models import Cohort, Enrolment

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_runs_reviews_and_publishes_matching_then_a_mentee_chooses_a_mentor(
    page: Page, live_server, monkeypatch, sign_in, sign_out
):
    call_command("seed_demo")
    cohort = Cohort.objects.get(program__name="Leadership Mentoring", name__startswith="Spring")
    # Hold the run in the queue so the test can watch its progress move, as a worker would.
    queued: list[int] = []
    monkeypatch.setattr(
        "matching.tasks.match_run_execute_task.delay", lambda run_id: queued.append(run_id)
    )
    page.on("dialog", lambda dialog: dialog.accept())
    base = live_server.url

    sign_in("coordinator@demo.mentorship.test", password=DEMO_PASSWORD)
    page.goto(f"{base}/cohorts/{cohort.pk}/")
    page.get_by_role("button", name="Start matching").click()
    expect(page.get_by_text("Enrolment is closed and matching can start")).to_be_visible()
    page.get_by_role("link", name="Matching").first.click()
    page.get_by_role("button", name="Run matching").click()

    progress = page.get_by_role("progressbar")
    expect(progress).to_be_visible()
    (run_id,) = queued
    MatchRun.objects.filter(pk=run_id).update(progress=40, progress_message="Scoring pairs")
    expect(progress).to_have_attribute("aria-valuenow", "40")
    services.match_run_execute(run_id=run_id)
    expect(page.get_by_text("Accept all")).to_be_visible()  # the page refreshed itself

    first_row = page.locator("tr[id^=proposal-]").first
    expect(first_row).to_contain_text("Mentor has expertise")
    first_row.get_by_text("Next best").click()
    expect(first_row.locator("details li").first).to_be_visible()

    # Every place is taken in the demo: free one by rejecting the weakest pair, then swap.
    page.locator("tr[id^=proposal-]").last.get_by_role("button", name="Reject").click()
    expect(page.get_by_text(re.compile("rejected", re.I)).first).to_be_visible()
    page.locator("tr[id^=proposal-]").first.get_by_role(
        "link", name=re.compile("Swap mentor")
    ).click()
    page.get_by_role("button", name=re.compile("^Swap to")).first.click()
    expect(page.get_by_text(re.compile(r"Swapped: score"))).to_be_visible()

    page.get_by_role("button", name="Accept all").click()
    page.get_by_role("button", name=re.compile("^Publish")).click()
    # A worker publishes (in-process here) while the page follows it; then back to the run.
    expect(page.get_by_role("heading", name=re.compile(r"^Published \d+ pairs"))).to_be_visible()
    page.get_by_role("link", name="Continue").click()
    expect(page.locator("#published-title")).to_contain_text("Published on")
    assert Relationship.objects.filter(cohort=cohort).count() == (
        MatchRun.objects.get(pk=run_id).proposals.filter(decision="accepted").count()
    )
    sign_out()

    mentee = Enrolment.objects.get(cohort=cohort, user__email="mentee@demo.mentorship.test")
    sign_in("mentee@demo.mentorship.test", password=DEMO_PASSWORD)
    page.goto(f"{base}/me/enrolments/{mentee.pk}/")
    expect(page.get_by_role("heading", name="Your mentor")).to_be_visible()
    sign_out()

    # Self-service: a mentee the run could not place asks a mentor who has a place again.
    unplaced = Enrolment.objects.get(
        pk=cast(
            int,
            MatchRun.objects.get(pk=run_id)
            .unmatched.filter(enrolment__role="mentee")
            .values_list("enrolment_id", flat=True)
            .first(),
        )
    )
    # Every mentor is full after publishing: give each one more place so the mentee has
    # recommendations, as a coordinator would by raising capacities.
    for enrolment in Enrolment.objects.filter(cohort=cohort, role="mentor"):
        Enrolment.objects.filter(pk=enrolment.pk).update(capacity=(enrolment.capacity or 1) + 1)
    sign_in(unplaced.user.email, password=DEMO_PASSWORD)
    page.goto(f"{base}/me/enrolments/{unplaced.pk}/")
    page.get_by_role("link", name="Choose your mentor").click()
    top_choice = page.locator("select[name=first] option[value]:not([value=''])").first
    mentor = Enrolment.objects.get(pk=int(cast(str, top_choice.get_attribute("value"))))
    page.select_option("select[name=first]", str(mentor.pk))
    page.fill("textarea[name=note]", "I would love to learn how you run negotiations.")
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_text(re.compile("Your request went to"))).to_be_visible()
    sign_out()

    sign_in(mentor.user.email, password=DEMO_PASSWORD)
    page.goto(f"{base}/me/requests/")
    expect(page.get_by_text("I would love to learn how you run negotiations.")).to_be_visible()
    page.get_by_role("button", name="Accept").first.click()
    expect(page.get_by_text(re.compile("You are now .*'s mentor"))).to_be_visible()
    assert Relationship.objects.filter(members__enrolment=unplaced).exists()
