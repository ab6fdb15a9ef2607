"""Milestones in chromium: a mentee ticks the last step of a goal and sees the goal done at
100%, then adds a step after the fact and sees it reopen."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goals import services
from goals.models import Goal
from tests.factories import RelationshipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_shows_the_goal_done_when_the_last_milestone_is_ticked(
    page: Page, live_server, cohort, mentor, mentee, sign_in
):
    pair = RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)
    mo = pair.members.get(role="mentee")
    goal = services.goal_create(
        relationship=pair,
        owner=mo,
        title="Present the roadmap",
        measure="The quarterly roadmap talk, given",
        target_date=timezone.localdate() + dt.timedelta(days=60),
        created_by=mentee,
        milestones=("Draft the slides", "Rehearse with Maya"),
    )
    services.milestone_toggle(milestone=goal.milestones.order_by("pk")[0], done=True, member=mo)

    sign_in(mentee.email)
    page.goto(f"{live_server.url}/relationships/{pair.pk}/")
    card = page.locator(f"#goal-{goal.pk}")
    expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "50")
    expect(card.get_by_text("On track")).to_be_visible()

    card.get_by_role("button", name="Mark “Rehearse with Maya” done").click()

    card = page.locator(f"#goal-{goal.pk}")
    expect(card.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(card.get_by_text("Done", exact=True)).to_be_visible()
    expect(page.get_by_text("“Present the roadmap” is done, 100%.")).to_be_visible()

    card.get_by_role("link", name=re.compile("^Edit")).click()
    page.fill("input[name=new-title]", "Present it to the board")
    page.get_by_role("button", name="Add the step").click()
    expect(page.get_by_text("Progress follows the milestones: 2 of 3 done.")).to_be_visible()
    goal.refresh_from_db()
    assert (goal.status, goal.progress) == (Goal.Status.ON_TRACK, 66)
