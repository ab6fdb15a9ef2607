"""A task that only the worker tests load (`celery worker --include tests.celery_probe`).

Product tasks are idempotent on purpose, which hides a double run; this one counts its runs in
Redis so a test can prove a task ran exactly once."""

from __future__ import annotations

import redis
from celery import shared_task
from django.conf import settings


def probe_key(token: str) -> str:
    return f"mentorship-test-probe:{token}"


@shared_task
def probe_count_run_task(*, token: str) -> None:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.incr(probe_key(token))
    client.expire(probe_key(token), 600)
