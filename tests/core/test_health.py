"""/healthz: what a load balancer and an operator read to decide whether the site is up, and
what runs degraded. 503 only when the site cannot do its job (database down, worker stale);
a broker, cache or outbox in trouble is "degraded" with a 200, because pages and writes still
work."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator

import pytest
import time_machine
from django.db import OperationalError
from django.utils import timezone

from common.cache import breaker_for
from common.tasks import broker_breaker
from core.models import Heartbeat
from core.tasks import heartbeat_record_task
from matching.models import MatchRun
from mentorship.celery import app
from notifications.models import OutboundEmail
from programs.models import Announcement
from tests.factories import (
    AnnouncementFactory,
    HeartbeatFactory,
    MatchRunFactory,
    OutboundEmailFactory,
)

pytestmark = pytest.mark.django_db

CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens on port 1: refused at once


class BrokenConnection:
    vendor = "broken"

    def cursor(self):
        raise OperationalError("connection refused")


@pytest.fixture
def broker_configured(settings, monkeypatch) -> Iterator[None]:
    """A deployment with a broker and a worker (not in-process tasks), whose broker is down."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Celery reads these variables before its own configuration (CI sets CELERY_BROKER_URL).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setattr(app.conf, "broker_url", CLOSED_PORT)
    yield
    broker_breaker.reset()


def test_it_reports_ok_in_three_queries(client, django_assert_num_queries):
    with django_assert_num_queries(3):  # SELECT 1, the heartbeat, the outbox's depth
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["degraded"] == []
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["worker"]["ok"] is True  # tasks run in-process here: no worker to wait for
    assert body["outbox"] == {
        "ok": True,
        "queued": 0,
        "retrying": 0,
        "stuck": 0,
        "oldest_queued_seconds": None,
    }
    assert "no-cache" in response["Cache-Control"]


def test_it_answers_before_sessions_and_host_checks(client):
    """A load balancer probes by address, with no cookie: it gets an answer, and no session."""
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    page = client.get("/", HTTP_HOST="10.0.0.7:8000")

    assert response.status_code == 200
    assert page.status_code == 400  # the same address is not an allowed host for pages
    assert "sessionid" not in response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_it_reports_unavailable_when_the_database_fails(client, monkeypatch):
    monkeypatch.setattr("core.selectors.connection", BrokenConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["degraded"] == ["database"]
    assert body["database"]["ok"] is False
    assert "OperationalError" in body["database"]["detail"]


@time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False)
def test_it_reports_a_broker_outage_as_degraded_while_the_worker_is_fresh(
    client, broker_configured
):
    HeartbeatFactory(seen_at=timezone.now() - dt.timedelta(seconds=30))

    started = time.monotonic()
    response = client.get("/healthz")
    seconds = time.monotonic() - started

    assert response.status_code == 200, "pages and writes still work: stay in rotation"
    body = response.json()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["broker"]
    assert body["broker"]["ok"] is False
    assert body["broker"]["detail"].startswith("down")
    assert body["worker"]["ok"] is True
    assert body["worker"]["last_seen_seconds_ago"] == 30
    assert seconds < 1, "a probe answers quickly while the broker is down"


def test_it_reports_unavailable_once_the_worker_heartbeat_is_stale(
    client, settings, broker_configured
):
    settings.HEALTHZ_WORKER_STALE_SECONDS = 180
    now = timezone.now()
    HeartbeatFactory(seen_at=now - dt.timedelta(seconds=170))
    with time_machine.travel(now, tick=False):
        assert client.get("/healthz").status_code == 200

    with time_machine.travel(now + dt.timedelta(seconds=20), tick=False):
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["worker"]["ok"] is False
    assert body["worker"]["detail"] == "stale: last seen 190s ago"
    assert set(body["degraded"]) == {"broker", "worker"}


def test_it_reports_unavailable_when_no_worker_was_ever_seen(client, broker_configured):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["worker"]["detail"] == "never seen: are the worker and beat running?"


def test_it_shows_how_long_ago_the_worker_was_seen(client):
    assert client.get("/healthz").json()["worker"]["last_seen_seconds_ago"] is None

    heartbeat_record_task()
    heartbeat_record_task()

    assert Heartbeat.objects.filter(component="worker").count() == 1
    seconds_ago = client.get("/healthz").json()["worker"]["last_seen_seconds_ago"]
    assert seconds_ago is not None
    assert 0 <= seconds_ago < 5


def test_it_reports_the_outbox_depth_and_degrades_when_it_lags(client, settings):
    settings.HEALTHZ_OUTBOX_LAG_SECONDS = 600
    now = timezone.now()
    with time_machine.travel(now - dt.timedelta(seconds=300), tick=False):
        OutboundEmailFactory.create_batch(2)
    OutboundEmailFactory()
    OutboundEmailFactory(status=OutboundEmail.Status.FAILED, attempts=1, due_at=now)
    OutboundEmailFactory(status=OutboundEmail.Status.SENT)

    with time_machine.travel(now, tick=False):
        body = client.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["outbox"] == {
        "ok": True,
        "queued": 3,
        "retrying": 1,
        "stuck": 0,
        "oldest_queued_seconds": 300,
    }

    with time_machine.travel(now + dt.timedelta(seconds=301), tick=False):
        response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["degraded"] == ["outbox"]
    assert body["outbox"]["oldest_queued_seconds"] == 601


def test_it_reports_an_email_stuck_sending(client, settings):
    settings.OUTBOX_SENDING_TIMEOUT_SECONDS = 600
    now = timezone.now()
    OutboundEmailFactory(
        status=OutboundEmail.Status.SENDING, claimed_at=now - dt.timedelta(seconds=601)
    )
    OutboundEmailFactory(status=OutboundEmail.Status.SENDING, claimed_at=now)  # being sent

    body = client.get("/healthz").json()

    assert body["outbox"]["stuck"] == 1
    assert body["degraded"] == ["outbox"]


def test_it_reports_the_cache_down_as_degraded(client, settings):
    settings.CACHES = {
        "default": {"BACKEND": "common.cache.FallbackRedisCache", "LOCATION": CLOSED_PORT}
    }
    try:
        response = client.get("/healthz")
    finally:
        breaker_for(CLOSED_PORT).reset()

    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] == ["cache"]
    assert body["cache"]["ok"] is False
    assert "using local memory" in body["cache"]["detail"]


def test_it_gives_people_a_full_report(client):
    OutboundEmailFactory.create_batch(2, status=OutboundEmail.Status.SENT)
    OutboundEmailFactory(status=OutboundEmail.Status.FAILED, attempts=5, due_at=None)
    AnnouncementFactory(status=Announcement.Status.SENDING)
    MatchRunFactory(status=MatchRun.Status.RUNNING)

    response = client.get("/healthz?full=1")

    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith('{\n  "database"'), "indented for a person to read"
    body = json.loads(text)
    assert body["emails_by_status"] == {"queued": 0, "sending": 0, "sent": 2, "failed": 1}
    assert body["announcements_unfinished"] == {"queued": 0, "sending": 1}
    assert body["match_runs_unfinished"] == {"queued": 0, "running": 1}
    assert body["thresholds_seconds"]["worker_stale"] == 180
    assert body["outbox"]["retrying"] == 0, "no retry is left after the last attempt"
