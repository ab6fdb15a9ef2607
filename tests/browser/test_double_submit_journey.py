"""A double click in chromium: the mentee double-clicks "Log the check-in", then goes back and
sends the page again (the browser fetches the form anew; static/js/app.js gives it back the
token it was sent with). The relationship has one check-in, one private note, and the partner
one notification; the answer says it was already saved. A new visit to the form is a new
check-in."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.services import ALREADY_SAVED
from goals import services
from goals.models import CheckIn, PrivateNote
from notifications.models import Notification
from tests.factories import RelationshipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_double_click_and_the_back_button_log_one_check_in(
    page: Page, live_server, cohort, mentor, mentee, sign_in, monkeypatch
):
    pair = RelationshipFactory(
        cohort=cohort,
        mentor=mentor,
        mentee=mentee,
        started_at=timezone.now() - dt.timedelta(days=30),
    )
    # The server takes its time, as a busy one does: the second click lands while the first
    # is still being answered, so both reach it.
    log = services.check_in_log

    def slow_check_in_log(**kwargs: Any) -> CheckIn:
        time.sleep(0.5)
        return log(**kwargs)

    monkeypatch.setattr(services, "check_in_log", slow_check_in_log)
    sign_in(mentee.email)
    page.goto(f"{live_server.url}/relationships/{pair.pk}/check-ins/new/")
    page.fill("input[name=met_on]", timezone.localdate().isoformat())
    page.fill("input[name=duration_minutes]", "45")
    page.fill("textarea[name=summary]", "Rehearsed the roadmap talk twice.")
    page.fill("textarea[name=private_note]", "I rushed the ending.")
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    button = page.get_by_role("button", name="Log the check-in")
    # A person's double click: the second click 150 ms after the first, while the first is
    # on its way (the page clicks it itself: Playwright waits for a navigation to end first).
    button.evaluate(
        "b => b.addEventListener('click', () => setTimeout(() => b.click(), 150), {once: true})"
    )
    button.click()

    expect(page.get_by_text("Rehearsed the roadmap talk twice.")).to_be_visible()
    assert len(posts) == 2  # both clicks reached the server
    page.go_back()
    page.get_by_role("button", name="Log the check-in").click()
    expect(page.get_by_text(ALREADY_SAVED)).to_be_visible()
    expect(page.get_by_text("Rehearsed the roadmap talk twice.")).to_have_count(1)

    assert CheckIn.objects.filter(relationship=pair).count() == 1
    assert PrivateNote.objects.filter(relationship=pair).count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.CHECK_IN_LOGGED).count() == 1

    page.get_by_role("link", name="Log a check-in").first.click()
    page.fill("textarea[name=summary]", "Second meeting: the talk went well.")
    page.get_by_role("button", name="Log the check-in").click()
    expect(page.get_by_text("Second meeting: the talk went well.")).to_be_visible()
    assert CheckIn.objects.filter(relationship=pair).count() == 2
