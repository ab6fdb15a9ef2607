"""One-click unsubscribe from an email's link, without signing in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import Notification, NotificationPreference
from notifications.services import unsubscribe_headers, unsubscribe_token
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

KIND = Notification.Kind.CHECK_IN_DUE


def test_it_asks_before_it_stops_an_email_and_stops_it_on_the_button(client):
    person = UserFactory()
    url = reverse("notifications:unsubscribe", args=[unsubscribe_token(user=person, kind=KIND)])

    page = client.get(url)
    assert page.status_code == 200
    assert "Stop emails about “A check-in is due”?" in page.content.decode()
    assert not NotificationPreference.objects.exists()

    done = client.post(url)
    assert done.status_code == 200
    assert "no more emails about “A check-in is due”" in done.content.decode()
    assert NotificationPreference.objects.get(user=person, kind=KIND).email is False


def test_a_mail_programs_one_click_post_unsubscribes_without_a_csrf_token(client):
    person = UserFactory()
    header = unsubscribe_headers(user=person, kind=KIND)["List-Unsubscribe"]
    strict = client.__class__(enforce_csrf_checks=True)

    response = strict.post(header.strip("<>"), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert NotificationPreference.objects.get(user=person, kind=KIND).email is False


@pytest.mark.parametrize("token", ["not-a-token", "tampered"])
def test_a_bad_or_altered_link_shows_a_friendly_page_and_changes_nothing(client, token):
    person = UserFactory()
    if token == "tampered":
        token = unsubscribe_token(user=person, kind=KIND)[:-2] + "xx"

    response = client.post(reverse("notifications:unsubscribe", args=[token]))

    assert response.status_code == 400
    assert "This unsubscribe link does not work" in response.content.decode()
    assert not NotificationPreference.objects.exists()


def test_an_old_link_has_expired(client, time_machine):
    person = UserFactory()
    time_machine.move_to("2026-01-01T00:00:00Z")
    token = unsubscribe_token(user=person, kind=KIND)
    time_machine.move_to("2026-12-01T00:00:00Z")

    response = client.post(reverse("notifications:unsubscribe", args=[token]))

    assert response.status_code == 400
    assert not NotificationPreference.objects.exists()


def test_a_transactional_email_cannot_be_unsubscribed(client):
    person = UserFactory()
    token = unsubscribe_token(user=person, kind=Notification.Kind.MATCH_PUBLISHED)

    response = client.post(reverse("notifications:unsubscribe", args=[token]))

    assert response.status_code == 400
    assert not NotificationPreference.objects.exists()
