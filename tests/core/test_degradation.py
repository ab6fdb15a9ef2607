"""Redis down (as broker and as cache): people still sign in, a write still answers with its
usual redirect (not a 500 after saving), and the emails it queued go out once Redis is back,
through the relay."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
import time_machine
from django.contrib.auth import get_user
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from core.services import background_work_relay
from goals.models import CheckIn
from notifications.models import OutboundEmail
from tests.factories import TEST_PASSWORD, RelationshipFactory
from tests.outage import broker_back, broker_down, cache_down  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def sign_in_through_the_form(client, email: str, password: str = TEST_PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_people_sign_in_while_the_cache_is_down(client, cache_down, mentor, mentee):  # noqa: F811
    cache.clear()  # the local stand-in starts empty, whatever earlier tests left in it
    response = sign_in_through_the_form(client, mentee.email)

    assert response.status_code == 302
    assert get_user(client).is_authenticated
    # The limit on guessing still holds, counted in this process's memory meanwhile, and it
    # holds for the account guessed at only.
    client.logout()
    for _ in range(5):
        sign_in_through_the_form(client, mentor.email, "guess")
    refused = sign_in_through_the_form(client, mentor.email)
    assert "Too many failed login attempts" in refused.content.decode()
    assert sign_in_through_the_form(client, mentee.email).status_code == 302


def test_a_check_in_logged_while_redis_is_down_is_saved_and_its_email_sent_later(
    client,
    settings,
    cache_down,  # noqa: F811
    broker_down,  # noqa: F811
    cohort,
    mentor,
    mentee,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    pair = RelationshipFactory(cohort=cohort, mentor=mentor, mentee=mentee)
    settings.OUTBOX_RELAY_GRACE_SECONDS = 120
    assert sign_in_through_the_form(client, mentee.email).status_code == 302
    url = reverse("goals:check_in_create", args=[pair.pk])
    form = dict(HIDDEN.findall(client.get(url).content.decode()))
    now = timezone.now()

    with time_machine.travel(now, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                **form,
                "met_on": timezone.localdate().isoformat(),
                "duration_minutes": 45,
                "mode": "video",
                "summary": "We planned the talk.",
            },
        )

    assert response.status_code == 302
    assert CheckIn.objects.filter(relationship=pair).count() == 1
    email = OutboundEmail.objects.get()
    assert email.to == [mentor.email]
    assert email.status == OutboundEmail.Status.QUEUED
    assert mailoutbox == []

    broker_back(settings)
    with (
        time_machine.travel(now + dt.timedelta(seconds=121), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert background_work_relay()["emails_relayed"] == 1

    assert [m.to for m in mailoutbox] == [[mentor.email]]
    email.refresh_from_db()
    assert email.status == OutboundEmail.Status.SENT


def test_a_cache_outage_is_logged_once(cache_down, caplog):  # noqa: F811
    with caplog.at_level(logging.WARNING, logger="common.breaker"):
        for number in range(20):
            cache.set(f"key-{number}", number)
            assert cache.get(f"key-{number}") == number  # served from local memory meanwhile

    assert len(caplog.records) == 1
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("the Redis cache (redis://127.0.0.1:1/0) is unreachable (ConnectionError")
    )
