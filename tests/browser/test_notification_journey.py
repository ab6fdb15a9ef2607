"""Notifications in chromium: Mo Mentee sees what waits for them on their home page and in the
menu, opens the notification centre, follows one notification to where they act on it, and marks
the rest read; Maya Mentor follows a reminder the sweep recorded to the check-in form; Mo stops
an email from its link, signed out; Corinne Coordinator sends an announcement and sees it
delivered, and a mentee reads it in their notifications."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from goals import services as goals_services
from goals.models import CheckIn
from goals.reminder_sweep import reminder_sweep
from notifications.models import Notification, NotificationPreference
from programs.models import Cohort
from tests.factories import NotificationFactory, RelationshipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

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


def active_pair(cohort: Cohort, mentor, mentee):
    """Maya mentors Mo in the active Spring cohort, as matching left them 30 days ago: no
    meeting yet, so with the default two-week cadence their check-in is overdue."""
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.ACTIVE)
    cohort.refresh_from_db()
    return RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)


def test_it_takes_a_mentor_from_an_overdue_check_in_reminder_to_the_check_in_form(
    page: Page, live_server, sign_in, cohort, mentor, mentee
):
    pair = active_pair(cohort, mentor, mentee)
    reminder_sweep(now=timezone.now())
    reminder = Notification.objects.get(recipient=mentor, kind=Notification.Kind.CHECK_IN_OVERDUE)
    assert reminder.title == "Your check-in with Mo Mentee is overdue"
    # Nobody signed the agreement either: Maya has that reminder too.
    assert Notification.objects.filter(recipient=mentor, read_at__isnull=True).count() == 2

    sign_in(mentor.email)

    nav = page.get_by_role("navigation", name="Main").locator("visible=true").first
    expect(nav.get_by_role("link", name="Notifications, 2 unread")).to_be_visible()
    todos = page.get_by_role("region", name="Your to-dos")
    expect(todos.get_by_role("link", name=reminder.title)).to_be_visible()
    shot(page, "mentor-home")

    nav.get_by_role("link", name="Notifications, 2 unread").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    page.get_by_role("link", name=reminder.title).click()

    expect(page).to_have_url(f"{live_server.url}/relationships/{pair.pk}/check-ins/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a check-in")
    expect(page.get_by_role("button", name="Log the check-in")).to_be_visible()
    shot(page, "mentor-check-in-form")

    nav.get_by_role("link", name="Notifications, 1 unread").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    item = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=reminder.title))
    expect(item).to_be_visible()
    expect(item.get_by_text("Unread", exact=True)).to_have_count(0)
    expect(page.get_by_text("Unread", exact=True)).to_have_count(1)
    expect(page.get_by_role("button", name=f"Mark as read: {reminder.title}")).to_have_count(0)
    reminder.refresh_from_db()
    assert reminder.read_at is not None


def test_it_stops_an_email_from_its_link_without_signing_in(
    page: Page, live_server, settings, mailoutbox, cohort, mentor, mentee
):
    # The email's links point at the site; here the site is the live server.
    settings.SITE_URL = live_server.url
    pair = active_pair(cohort, mentor, mentee)
    goals_services.check_in_log(
        relationship=pair,
        member=pair.members.get(role="mentor"),
        met_on=timezone.localdate() - dt.timedelta(days=1),
        duration_minutes=45,
        mode=CheckIn.Mode.VIDEO,
        summary="We rehearsed the board presentation.",
    )
    emails = [m for m in mailoutbox if m.to == [mentee.email]]
    assert len(emails) == 1, [m.subject for m in mailoutbox]
    link = next(
        line.split(": ", 1)[1]
        for line in emails[0].body.splitlines()
        if line.startswith("Stop emails like this one: ")
    )
    assert link.startswith(f"{live_server.url}/unsubscribe/")

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Stop emails about “A meeting was logged”?"
    )
    expect(page.get_by_text(mentee.email)).to_be_visible()
    page.get_by_role("button", name="Stop these emails").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "You will get no more emails about “A meeting was logged”"
    )
    shot(page, "unsubscribed")

    preference = NotificationPreference.objects.get(
        user=mentee, kind=Notification.Kind.CHECK_IN_LOGGED
    )
    assert preference.email is False


def test_it_takes_a_coordinators_announcement_to_the_mentees_notifications(
    page: Page, live_server, sign_in, sign_out, cohort, coordinator, mentor, mentee
):
    subject = "Mid-programme social on Thursday"
    Cohort.objects.filter(pk=cohort.pk).update(status=Cohort.Status.ACTIVE)

    sign_in(coordinator.email)
    page.get_by_role("link", name="Programs").locator("visible=true").first.click()
    page.get_by_role("link", name="Leadership Mentoring").first.click()
    page.get_by_role("link", name="Spring").first.click()
    page.get_by_role("link", name="Announcements").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Announcements")

    page.get_by_label("Who reads it").select_option(label="Mentees only")
    page.get_by_label("Subject").fill(subject)
    page.get_by_label("Message").fill("Drinks and snacks at 17:00 in the atrium.\n\nAll welcome.")
    page.get_by_role("button", name="Check who reads it").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before sending")
    expect(page.get_by_text("1 person", exact=True)).to_be_visible()
    shot(page, "announcement-confirm")
    page.get_by_role("button", name="Send to 1 person").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.get_by_role("status")).to_have_text("Delivered to 1 of 1.")
    shot(page, "announcement-delivered")
    sign_out()

    sign_in(mentee.email)
    nav = page.get_by_role("navigation", name="Main").locator("visible=true").first
    nav.get_by_role("link", name="Notifications, 1 unread").click()
    page.get_by_role("link", name=subject).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(subject)
    expect(page.get_by_text("Drinks and snacks at 17:00 in the atrium.")).to_be_visible()
    assert not Notification.objects.filter(recipient=mentor, title=subject).exists()
