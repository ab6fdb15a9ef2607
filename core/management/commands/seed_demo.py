from __future__ import annotations

from django.core.management.base import BaseCommand

from core.demo import DEMO_DOMAIN, DEMO_PASSWORD, demo_seed
from goals.reminder_sweep import reminder_sweep


class Command(BaseCommand):
    help = "Create (or keep) a believable demo organisation. Safe to run again."

    def handle(self, *args, **options) -> None:
        summary = demo_seed()
        # Without beat (the embedded mode) the sweep would never run: run it once, so the
        # demo's people find their reminders in their to-dos. Each reminder is recorded once.
        reminders = reminder_sweep()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {summary.people} people, {summary.programs} programs, "
                f"{summary.enrolments} enrolments, {reminders.notified} new reminders. Logins "
                f"end in @{DEMO_DOMAIN}, password {DEMO_PASSWORD!r}."
            )
        )
