from __future__ import annotations

from django.core.management.base import BaseCommand

from core.demo import DEMO_DOMAIN, DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create (or keep) a believable demo organisation. Safe to run again."

    def handle(self, *args, **options) -> None:
        summary = demo_seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo ready: {summary.people} people, {summary.programs} programs, "
                f"{summary.enrolments} enrolments. Logins end in @{DEMO_DOMAIN}, "
                f"password {DEMO_PASSWORD!r}."
            )
        )
