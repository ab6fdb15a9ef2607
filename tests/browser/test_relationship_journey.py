"""A mentoring relationship in chromium: mentor and mentee sign the agreement, the mentee adds
a goal and logs a check-in, the mentor confirms it and gives pulse feedback; the coordinator
then sees the signed agreement and the relationship's health change."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goals.models import Goal
from matching import services as matching_services
from matching.models import Relationship
from programs.models import Cohort, Enrolment
from tests.factories import ProfileFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_takes_a_pair_from_an_unsigned_start_to_a_healthy_relationship(
    page: Page, live_server, cohort, coordinator, mentor, mentee, sign_in, sign_out
):
    for user in (mentor, mentee):
        ProfileFactory(user=user, languages=["English"])
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.MATCHING)
    cohort.refresh_from_db()
    relationship = matching_services.relationship_create(
        cohort=cohort,
        mentor=Enrolment.objects.get(user=mentor),
        mentee=Enrolment.objects.get(user=mentee),
    )
    # Forty days in with no meeting and no goal: the coordinator should see it at risk.
    Relationship.objects.filter(pk=relationship.pk).update(
        started_at=timezone.now() - dt.timedelta(days=40)
    )
    page.on("dialog", lambda dialog: dialog.accept())
    base = live_server.url
    home = f"{base}/relationships/{relationship.pk}/"

    sign_in(coordinator.email)
    page.goto(home)
    expect(page.get_by_text("Health: at risk.")).to_be_visible()
    sign_out()

    sign_in(mentee.email)
    page.get_by_role("link", name="My mentoring").locator("visible=true").first.click()
    expect(page.get_by_text("Maya Mentor")).to_be_visible()
    page.get_by_role("link", name="Open").first.click()
    page.get_by_role("button", name=re.compile("^Sign version")).click()
    page.get_by_role("link", name="Add a goal").first.click()
    page.fill("input[name=title]", "Present our roadmap to the leadership team")
    page.fill("input[name=measure]", "Give the quarterly roadmap talk with confidence")
    page.fill("input[name=target_date]", (timezone.localdate() + dt.timedelta(days=90)).isoformat())
    page.get_by_role("button", name="Add the goal").click()
    page.get_by_role("link", name="Log a check-in").first.click()
    page.fill("input[name=met_on]", timezone.localdate().isoformat())
    page.fill("input[name=duration_minutes]", "45")
    page.fill("textarea[name=summary]", "Planned the first rehearsal of the roadmap talk.")
    page.locator("input[name^=goal_]").first.fill("30")
    page.get_by_role("button", name="Log the check-in").click()
    expect(page.get_by_text("Planned the first rehearsal of the roadmap talk.")).to_be_visible()
    sign_out()

    sign_in(mentor.email)
    page.goto(home)
    page.get_by_role("button", name=re.compile("^Sign version")).click()
    page.get_by_role("button", name="Confirm this check-in").click()
    page.locator("input[name=usefulness][value='5']").first.check()
    page.get_by_role("button", name="Send", exact=True).first.click()
    sign_out()

    sign_in(coordinator.email)
    page.goto(home)
    expect(page.get_by_text("Signed by everyone")).to_be_visible()
    expect(page.get_by_text("Health: on track.")).to_be_visible()
    assert Goal.objects.get(relationship=relationship).status == Goal.Status.ON_TRACK
