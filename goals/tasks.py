from __future__ import annotations

from celery import shared_task

from notifications.services.digest import daily_digest_send

from .reminder_sweep import coordinator_digest_send, reminder_sweep

# A sweep of a large organisation takes seconds; the limit only stops one that has gone wrong.
SWEEP_TIME_LIMIT = 10 * 60


@shared_task(soft_time_limit=SWEEP_TIME_LIMIT, time_limit=SWEEP_TIME_LIMIT + 60)
def reminder_sweep_task() -> dict[str, int]:
    result = reminder_sweep()
    return {"due": result.due, "notified": result.notified, "failed": len(result.failed)}


@shared_task(soft_time_limit=SWEEP_TIME_LIMIT, time_limit=SWEEP_TIME_LIMIT + 60)
def coordinator_digest_send_task() -> int:
    return coordinator_digest_send()


# The daily email is the notifications app's (it reads only notifications); its task lives here
# because notifications.tasks may not import a service that queues email through
# notifications.tasks (scripts/check_imports.py allows one services <-> tasks pair only).
@shared_task(soft_time_limit=SWEEP_TIME_LIMIT, time_limit=SWEEP_TIME_LIMIT + 60)
def daily_digest_send_task() -> int:
    return daily_digest_send().sent
