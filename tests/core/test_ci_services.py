"""Under CI the suite must run on the real services, not quietly fall back to the embedded
default. On a laptop with nothing configured these skip."""

from __future__ import annotations

import pytest
from django.db import connection

from core.selectors import broker_status
from tests.conftest import require_service

pytestmark = pytest.mark.django_db


def test_it_runs_the_suite_on_postgresql(db):
    require_service(connection.vendor == "postgresql", "DATABASE_URL does not point at PostgreSQL")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        assert cursor.fetchone()[0]


def test_it_reaches_redis_as_the_broker(redis_url, settings):
    assert redis_url == settings.CELERY_BROKER_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    status = broker_status()
    assert status.ok, status.detail
