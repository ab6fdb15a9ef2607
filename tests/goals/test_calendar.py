"""The private calendar feed: a valid iCalendar of the person's next meetings, reached by
its token alone, and dead once the link is rotated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from goals import services
from tests.factories import RelationshipFactory
from tests.goals.test_feedback_views import log_check_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(cohort, mentor, mentee):
    return RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)


@pytest.fixture
def next_meeting(pair, mentee) -> dt.datetime:
    at = (timezone.now() + dt.timedelta(days=5)).replace(microsecond=0)
    log_check_in(pair, mentee, next_meeting_at=at)
    return at


def _feed_url(user) -> str:
    return reverse("goals:calendar_feed", args=[services.calendar_feed_get(user=user).token])


def test_it_serves_the_next_meeting_without_a_login(client, mentor, pair, next_meeting):
    response = client.get(_feed_url(mentor))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["PRODID"]) == "-//Mentorship//EN"
    assert str(calendar["VERSION"]) == "2.0"
    assert str(calendar["X-WR-CALNAME"]) == "Mentoring"
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == next_meeting
    assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(minutes=60)
    assert str(event["SUMMARY"]) == "Mentoring: Leadership Mentoring"
    assert str(event["UID"]).startswith("check-in-")
    assert "DTSTAMP" in event
    assert "DESCRIPTION" in event
    assert b"delegation" not in response.content  # never the check-in's summary


def test_it_lists_nothing_for_someone_without_meetings(client, outsider, next_meeting):
    calendar = Calendar.from_ical(client.get(_feed_url(outsider)).content)

    assert calendar.walk("VEVENT") == []


def test_it_answers_404_for_an_unknown_token(client):
    assert client.get(reverse("goals:calendar_feed", args=["not-a-token"])).status_code == 404


def test_it_kills_the_old_link_when_rotated(client, mentor, next_meeting):
    old = _feed_url(mentor)
    client.force_login(mentor)

    response = client.post(reverse("goals:calendar_settings"))

    assert response.status_code == 302
    client.logout()
    assert client.get(old).status_code == 404
    assert client.get(_feed_url(mentor)).status_code == 200


def test_it_shows_the_absolute_link_and_how_to_subscribe(client, mentor):
    client.force_login(mentor)

    html = client.get(reverse("goals:calendar_settings")).content.decode()

    assert "http://testserver" + _feed_url(mentor) in html
    assert "Subscribe" in html or "subscribe" in html
    assert 'data-confirm="Make a new link? The old link stops working."' in html
