from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from mentorship.celery import PERIODIC_TASK_PREFIX, PERIODIC_TASKS


class Command(BaseCommand):
    help = "Create or update beat's periodic tasks from mentorship.celery.PERIODIC_TASKS."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        declared = set()
        for short_name, (task, every_seconds) in PERIODIC_TASKS.items():
            name = PERIODIC_TASK_PREFIX + short_name
            declared.add(name)
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=every_seconds, period=IntervalSchedule.SECONDS
            )
            _, created = PeriodicTask.objects.update_or_create(
                name=name,
                defaults={"task": task, "interval": interval, "crontab": None, "enabled": True},
            )
            self.stdout.write(f"{'created' if created else 'kept'}: {name} every {every_seconds}s")
        # A schedule removed from the code is disabled, not deleted, so its history stays.
        retired = (
            PeriodicTask.objects.filter(name__startswith=PERIODIC_TASK_PREFIX, enabled=True)
            .exclude(name__in=declared)
            .update(enabled=False)
        )
        if retired:
            self.stdout.write(f"disabled {retired} schedule(s) no longer declared")
