"""/healthz: what a load balancer and an operator read to decide whether the site is up."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from core.models import Heartbeat
from core.tasks import heartbeat_record_task
from mentorship.celery import app

pytestmark = pytest.mark.django_db


class BrokenConnection:
    vendor = "broken"

    def cursor(self):
        raise OperationalError("connection refused")


def test_it_reports_ok_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert body["status"] == "ok"
    assert "no-cache" in response["Cache-Control"]


def test_it_reports_unavailable_when_the_database_fails(client, monkeypatch):
    monkeypatch.setattr("core.selectors.connection", BrokenConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is False
    assert "OperationalError" in body["database"]["detail"]


def test_it_reports_unavailable_when_the_broker_is_unreachable(client, settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    # Celery reads these variables before its own configuration (CI sets CELERY_BROKER_URL).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    # Port 1: nothing listens there, so the connection is refused at once.
    monkeypatch.setattr(app.conf, "broker_url", "redis://127.0.0.1:1/0")

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["broker"]["ok"] is False
    assert body["database"]["ok"] is True
    assert body["status"] == "unavailable"


def test_it_shows_how_long_ago_the_worker_was_seen(client):
    assert client.get("/healthz").json()["worker_last_seen_seconds_ago"] is None

    heartbeat_record_task()
    heartbeat_record_task()

    assert Heartbeat.objects.filter(component="worker").count() == 1
    seconds_ago = client.get("/healthz").json()["worker_last_seen_seconds_ago"]
    assert seconds_ago is not None
    assert 0 <= seconds_ago < 5
