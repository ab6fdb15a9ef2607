from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from common.tasks import enqueue
from notifications.services.digest import daily_digest_send

from .reminder_sweep import (
    SweepPart,
    coordinator_digest_send,
    reminder_sweep,
    reminder_sweep_parts,
)

# A sweep of a large organisation takes seconds; the limit only stops one that has gone wrong.
SWEEP_TIME_LIMIT = 10 * 60


@shared_task(soft_time_limit=SWEEP_TIME_LIMIT, time_limit=SWEEP_TIME_LIMIT + 60)
def reminder_sweep_task() -> dict[str, int]:
    """The periodic sweep. A large organisation's is cut into parts that the workers take side
    by side; a small one's is swept here. A part lost with the broker or a worker is swept by
    the next run (each reminder's key is recorded once, so nothing is sent twice)."""
    now = timezone.now()
    parts = reminder_sweep_parts(now=now)
    if len(parts) == 1:
        return reminder_sweep_part_task(
            now=now.isoformat(), first=0, last=None, requests_and_invitations=True
        )
    published = sum(
        enqueue(
            reminder_sweep_part_task,
            now=now.isoformat(),
            first=part.first,
            last=part.last,
            requests_and_invitations=part.requests_and_invitations,
        )
        for part in parts
    )
    return {"parts": len(parts), "published": published}


@shared_task(soft_time_limit=SWEEP_TIME_LIMIT, time_limit=SWEEP_TIME_LIMIT + 60)
def reminder_sweep_part_task(
    *, now: str, first: int, last: int | None, requests_and_invitations: bool
) -> dict[str, int]:
    moment = dt.datetime.fromisoformat(now)
    part = None if last is None else SweepPart(first, last, requests_and_invitations)
    result = reminder_sweep(now=moment, part=part)
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
