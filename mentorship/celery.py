"""The Celery application, and the one place periodic work is declared.

Configuration comes from Django settings (namespace CELERY_). Beat reads its schedule from the
database (django-celery-beat); `manage.py sync_periodic_tasks` writes PERIODIC_TASKS there, so the
schedule lives in code review, not in someone's admin clicks.
"""

from __future__ import annotations

import os
from logging.config import dictConfig
from typing import Any

from celery import Celery, signals

from common.request_id import (
    task_finished_clear_request_id,
    task_publish_add_request_id,
    task_started_restore_request_id,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings.base")

app = Celery("mentorship")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A request's id travels with the tasks it queues, so their log lines carry it too.
signals.before_task_publish.connect(task_publish_add_request_id, weak=False)
signals.task_prerun.connect(task_started_restore_request_id, weak=False)
signals.task_postrun.connect(task_finished_clear_request_id, weak=False)


@signals.setup_logging.connect(weak=False)
def logging_from_django_settings(**_: Any) -> None:
    """Worker and beat log exactly as the web does (settings.LOGGING: text or JSON, with the
    request id), instead of Celery's own format."""
    from django.conf import settings

    dictConfig(settings.LOGGING)


# name → (task, every N seconds). Names are prefixed so the sync command knows which rows are ours.
PERIODIC_TASK_PREFIX = "mentorship: "
PERIODIC_TASKS: dict[str, tuple[str, int]] = {
    "worker heartbeat": ("core.tasks.heartbeat_record_task", 60),
    # The outbox relay: emails, announcements and matching runs whose message was lost.
    "relay lost background work": ("core.tasks.background_work_relay_task", 60),
    "expire unanswered mentor requests": ("matching.tasks.mentor_request_expire_due_task", 900),
    "reminder sweep": ("goals.tasks.reminder_sweep_task", 900),
    # Hourly: each person's bundle goes when their own clock shows 8:00, in their time zone.
    "daily reminder emails": ("goals.tasks.daily_digest_send_task", 3600),
    "weekly coordinator summary": ("goals.tasks.coordinator_digest_send_task", 3600),
    # Used create-form tokens are kept a month (a resent page creates nothing twice).
    "purge used form tokens": ("accounts.tasks.submission_tokens_purge_task", 86400),
    # Publishing, invitations: a job whose worker was lost continues where it stopped.
    "resume stalled bulk jobs": ("programs.tasks.bulk_job_resume_stale_task", 300),
}
