"""Mo Mentee sees what waits for them on their home page and in the menu, opens the notification
centre, follows one notification to where they act on it, and marks the rest read."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Set to a folder to keep screenshots of the pages for a look by eye.
SCREENSHOTS = os.environ.get("SCREENSHOTS", "")


def shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_it_takes_a_mentee_from_their_to_dos_to_the_page_to_act_on(
    page: Page, live_server, sign_in, mentee
):
    now = timezone.now()
    titles = [
        "Your check-in with Maya is due this week",
        "Maya logged your meeting of 3 March",
        "Your goal “Speak at the all-hands” is due in a week",
    ]
    for minutes, title in enumerate(titles):
        notification = NotificationFactory(recipient=mentee, title=title, url="/me/mentoring/")
        notification.created_at = now - dt.timedelta(minutes=10 - minutes)
        notification.save(update_fields=["created_at"])

    sign_in(mentee.email)

    nav = page.get_by_role("navigation", name="Main").locator("visible=true").first
    expect(nav.get_by_role("link", name="Notifications, 3 unread")).to_be_visible()
    todos = page.get_by_role("region", name="Your to-dos")
    expect(todos.get_by_role("link", name=titles[-1])).to_be_visible()
    shot(page, "home")

    nav.get_by_role("link", name="Notifications, 3 unread").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    expect(page.get_by_text("Unread", exact=True)).to_have_count(3)
    shot(page, "centre")

    page.get_by_role("link", name=titles[0]).click()
    expect(page).to_have_url(f"{live_server.url}/me/mentoring/")
    expect(nav.get_by_role("link", name="Notifications, 2 unread")).to_be_visible()

    nav.get_by_role("link", name="Notifications, 2 unread").click()
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("Marked 2 notifications as read.")).to_be_visible()
    expect(page.get_by_text("Unread", exact=True)).to_have_count(0)
    expect(nav.get_by_role("link", name="Notifications", exact=True)).to_be_visible()
    shot(page, "centre-read")
