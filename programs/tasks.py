from __future__ import annotations

from celery import shared_task

from programs.services.announcements import announcement_deliver

# Thousands of recipients take a minute or two; the limit only stops a delivery gone wrong, and
# a second run (acks_late redelivers after a lost worker) picks up where it stopped.
ANNOUNCEMENT_TIME_LIMIT = 30 * 60


@shared_task(
    acks_late=True, soft_time_limit=ANNOUNCEMENT_TIME_LIMIT, time_limit=ANNOUNCEMENT_TIME_LIMIT + 60
)
def announcement_deliver_task(*, announcement_id: int) -> str:
    return announcement_deliver(announcement_id=announcement_id).status
