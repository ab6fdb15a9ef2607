"""Publishing a large run in chromium: the coordinator presses Publish, lands on the job's page
at once and watches the progress bar move batch by batch, as a worker publishes, to the end;
the page then shows the outcome and leads back to the published run."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.db.models import F
from playwright.sync_api import Page, expect

import matching.services.publish as publish_module
from matching import services
from matching.models import MatchRun, Proposal, Relationship
from programs.models import BulkJob, Cohort
from tests.factories import (
    TEST_PASSWORD,
    CohortFactory,
    MatchRunFactory,
    ProgramFactory,
    ProposalFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAIRS = 30


def test_the_coordinator_publishes_a_run_and_watches_it_to_the_end(
    page: Page, live_server, monkeypatch, sign_in
):
    coordinator = UserFactory(email="corinne@example.org", display_name="Corinne Coordinator")
    program = ProgramFactory(name="Leadership Mentoring", coordinators=[coordinator])
    cohort = CohortFactory(program=program, name="Spring", status=Cohort.Status.MATCHING)
    run = MatchRunFactory(cohort=cohort, created_by=coordinator, matched_count=PAIRS)
    ProposalFactory.create_batch(PAIRS, run=run, decision=Proposal.Decision.ACCEPTED)
    # Hold the job in the queue so the test plays the worker, one batch of ten at a time.
    queued: list[int] = []
    monkeypatch.setattr(
        "matching.tasks.match_run_publish_task.delay", lambda job_id: queued.append(job_id)
    )
    monkeypatch.setattr(publish_module, "PUBLISH_BATCH_SIZE", 10)
    page.on("dialog", lambda dialog: dialog.accept())

    sign_in(coordinator.email, password=TEST_PASSWORD)
    page.goto(f"{live_server.url}/runs/{run.pk}/")
    page.get_by_role("button", name=re.compile("^Publish")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Publishing run {run.pk} of Spring")
    progress = page.get_by_role("progressbar")
    expect(progress).to_have_attribute("aria-valuenow", "0")
    expect(page.get_by_text("Waiting for a worker")).to_be_visible()
    (job_id,) = queued

    def one_batch() -> None:
        with transaction.atomic():
            job = BulkJob.objects.select_for_update().get(pk=job_id)
            count = services.match_run_publish_batch(job)
            BulkJob.objects.filter(pk=job_id).update(
                done=F("done") + count, status=BulkJob.Status.RUNNING
            )

    one_batch()
    expect(progress).to_have_attribute("aria-valuenow", "33")
    expect(page.get_by_text("10 of 30")).to_be_visible()
    one_batch()
    expect(progress).to_have_attribute("aria-valuenow", "66")

    services.match_run_publish_execute(job_id=job_id)  # the rest, and the outcome
    expect(
        page.get_by_role("heading", name="Published 30 pairs. Everyone in them is emailed.")
    ).to_be_visible()
    expect(progress).to_have_attribute("aria-valuenow", "100")
    assert Relationship.objects.filter(source_run=run).count() == PAIRS

    page.get_by_role("link", name="Continue").click()
    expect(page.locator("#published-title")).to_contain_text("Published on")
    assert MatchRun.objects.get(pk=run.pk).published_at is not None
