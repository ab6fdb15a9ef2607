"""The nudge: one click reminds a pair to meet, through the notification service, and a pair is
nudged at most once a day, whoever presses and however often."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from notifications.models import Notification, OutboundEmail
from reports import services
from reports.models import Nudge
from tests.factories import NotificationPreferenceFactory, NudgeFactory, RelationshipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(cohort, mentor, mentee):
    """Maya Mentor with Mo Mentee, started 60 days ago with no check-in or goal: at risk."""
    return RelationshipFactory(
        cohort=cohort,
        mentor=mentor,
        mentee=mentee,
        started_at=timezone.now() - dt.timedelta(days=60),
    )


def test_it_reminds_every_member_once_and_records_the_nudge(
    pair, coordinator, mentor, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        nudge = services.relationship_nudge(relationship=pair, nudged_by=coordinator)

    assert (nudge.relationship, nudge.day, nudge.nudged_by, nudge.recipients) == (
        pair,
        timezone.localdate(),
        coordinator,
        2,
    )
    reminders = Notification.objects.filter(kind=Notification.Kind.CHECK_IN_OVERDUE)
    assert set(reminders.values_list("recipient", flat=True)) == {mentor.pk, mentee.pk}
    assert sorted(m.to[0] for m in mailoutbox) == sorted([mentor.email, mentee.email])
    to_mo = next(m for m in mailoutbox if m.to == [mentee.email])
    assert "Corinne Coordinator" in to_mo.subject
    assert "Maya Mentor" in to_mo.subject  # the partner, by name
    assert "Corinne Coordinator, who coordinates Leadership Mentoring" in to_mo.body
    assert "60 days since the start, with no check-in yet" in to_mo.body  # the reason
    assert reverse("goals:check_in_create", args=[pair.pk]) in to_mo.body


def test_it_refuses_a_second_nudge_the_same_day_and_sends_nothing(
    pair, coordinator, admin_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.relationship_nudge(relationship=pair, nudged_by=coordinator)
    sent = len(mailoutbox)

    with (
        pytest.raises(ValidationError) as refused,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.relationship_nudge(relationship=pair, nudged_by=admin_user)

    assert refused.value.messages == [services.NUDGE_ALREADY]
    assert Nudge.objects.filter(relationship=pair).count() == 1
    assert len(mailoutbox) == sent
    assert Notification.objects.filter(kind=Notification.Kind.CHECK_IN_OVERDUE).count() == 2


def test_it_nudges_again_the_next_day(pair, coordinator):
    today = timezone.localdate()
    services.relationship_nudge(relationship=pair, nudged_by=coordinator, today=today)

    services.relationship_nudge(
        relationship=pair, nudged_by=coordinator, today=today + dt.timedelta(days=1)
    )

    assert Nudge.objects.filter(relationship=pair).count() == 2
    assert Notification.objects.filter(kind=Notification.Kind.CHECK_IN_OVERDUE).count() == 4


def test_it_lets_the_database_decide_when_two_press_at_once(pair, coordinator):
    # The other coordinator's nudge committed first: this one meets the unique constraint.
    NudgeFactory(relationship=pair)

    with pytest.raises(ValidationError) as refused:
        services.relationship_nudge(relationship=pair, nudged_by=coordinator)

    assert refused.value.messages == [services.NUDGE_ALREADY]
    assert not Notification.objects.exists()


def test_it_does_not_nudge_an_ended_relationship(cohort, coordinator):
    ended = RelationshipFactory(cohort=cohort, ended=True)

    with pytest.raises(ValidationError) as refused:
        services.relationship_nudge(relationship=ended, nudged_by=coordinator)

    assert refused.value.messages == [services.NUDGE_ENDED]
    assert not Nudge.objects.exists()


def test_it_keeps_the_reminder_in_the_app_for_who_turned_the_email_off(
    pair, coordinator, mentee, django_capture_on_commit_callbacks
):
    NotificationPreferenceFactory(user=mentee, kind=Notification.Kind.CHECK_IN_OVERDUE)

    with django_capture_on_commit_callbacks(execute=True):
        services.relationship_nudge(relationship=pair, nudged_by=coordinator)

    theirs = Notification.objects.get(recipient=mentee)
    assert theirs.delivery == Notification.Delivery.IN_APP
    assert OutboundEmail.objects.count() == 1  # the mentor's


def test_it_says_what_it_did_and_goes_back_to_the_page(client, coordinator, pair):
    client.force_login(coordinator)
    back = reverse("reports:cohort_dashboard", args=[pair.cohort_id]) + "?role=mentee"

    response = client.post(reverse("reports:relationship_nudge", args=[pair.pk]), {"next": back})

    assert response.status_code == 302
    assert response["Location"] == back
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [
        "Reminder sent to Maya Mentor, Mo Mentee. (2 reminded; they can be nudged again tomorrow.)"
    ]


def test_it_says_so_when_pressed_twice_and_shows_nudged_today(client, coordinator, pair):
    client.force_login(coordinator)
    url = reverse("reports:relationship_nudge", args=[pair.pk])
    client.post(url)

    second = client.post(url, follow=True)

    assert Nudge.objects.count() == 1
    page = second.content.decode()
    assert services.NUDGE_ALREADY in page
    assert "Nudged today" in page  # the dashboard it went back to


def test_it_never_redirects_off_the_site(client, coordinator, pair):
    client.force_login(coordinator)

    response = client.post(
        reverse("reports:relationship_nudge", args=[pair.pk]),
        {"next": "https://evil.example.org/"},
    )

    assert response["Location"] == reverse("reports:cohort_dashboard", args=[pair.cohort_id])


def test_it_lists_nudges_in_the_admin_without_letting_anyone_make_one(client, admin_user, pair):
    NudgeFactory(relationship=pair)
    client.force_login(admin_user)

    listing = client.get(reverse("admin:reports_nudge_changelist"), {"q": "Mo Mentee"})

    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 1
    assert "Leadership Mentoring" in listing.content.decode()
    assert client.get(reverse("admin:reports_nudge_add")).status_code == 403
