"""The Celery application, and the one place periodic work is declared.

Configuration comes from Django settings (namespace CELERY_). Beat reads its schedule from the
database (django-celery-beat); `manage.py sync_periodic_tasks` writes PERIODIC_TASKS there, so the
schedule lives in code review, not in someone's admin clicks.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings.base")

app = Celery("mentorship")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# name → (task, every N seconds). Names are prefixed so the sync command knows which rows are ours.
PERIODIC_TASK_PREFIX = "mentorship: "
PERIODIC_TASKS: dict[str, tuple[str, int]] = {
    "worker heartbeat": ("core.tasks.heartbeat_record_task", 60),
    "expire unanswered mentor requests": ("matching.tasks.mentor_request_expire_due_task", 900),
    "reminder sweep": ("goals.tasks.reminder_sweep_task", 900),
    # Hourly: each person's bundle goes when their own clock shows 8:00, in their time zone.
    "daily reminder emails": ("goals.tasks.daily_digest_send_task", 3600),
    "weekly coordinator summary": ("goals.tasks.coordinator_digest_send_task", 3600),
}
