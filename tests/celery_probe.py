"""A task that only the worker tests load (`celery worker --include tests.celery_probe`).

Product tasks are idempotent on purpose, which hides a double run; this one counts its runs in
Redis so a test can prove a task ran exactly once."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import redis
from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend


def probe_key(token: str) -> str:
    return f"mentorship-test-probe:{token}"


@shared_task
def probe_count_run_task(*, token: str) -> None:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.incr(probe_key(token))
    client.expire(probe_key(token), 600)


def probe_email_key(subject: str) -> str:
    return probe_key(f"email:{subject}")


class ProbeEmailBackend(BaseEmailBackend):
    """The worker tests' SMTP server (tests/worker_settings.py): each message takes
    PROBE_EMAIL_SECONDS to "send", then is counted in Redis under its subject, so a test can
    prove an email left exactly once even when its worker was killed or its queue lost."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        delay = float(os.environ.get("PROBE_EMAIL_SECONDS", "0"))
        for message in email_messages:
            time.sleep(delay)
            client.incr(probe_email_key(str(message.subject)))
            client.expire(probe_email_key(str(message.subject)), 600)
        return len(email_messages)
