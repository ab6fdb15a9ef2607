from __future__ import annotations

from celery import shared_task

from common.tasks import enqueue

from .services.outbound import (
    MAX_SEND_ATTEMPTS,
    RETRY_BACKOFF_MAX_SECONDS,
    RETRY_BACKOFF_SECONDS,
    email_send,
)


# The task retries itself for a quick recovery; should that retry be lost with the broker, the
# relay sends the email once its `due_at` has passed (email_relay_due).
@shared_task(
    autoretry_for=(OSError,),
    retry_backoff=RETRY_BACKOFF_SECONDS,
    retry_backoff_max=RETRY_BACKOFF_MAX_SECONDS,
    max_retries=MAX_SEND_ATTEMPTS,
)
def email_send_task(*, email_id: int) -> bool:
    return email_send(email_id=email_id)


@shared_task
def email_send_fanout_task(*, email_ids: list[int]) -> int:
    """Publish one email_send_task per email. Safe twice: an email is claimed before it is sent,
    so a second message for it sends nothing. Returns how many the broker took; the relay
    publishes the rest once they are due."""
    published = 0
    for email_id in email_ids:
        if not enqueue(email_send_task, email_id=email_id):
            break  # the broker is down: the relay sends the rest
        published += 1
    return published
